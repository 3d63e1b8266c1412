/**
 * Whether the CPU the server is pinned to stood still during a run. A sleeper pinned to that CPU wakes every
 * few milliseconds (TICK_MS) and notes each wake-up that came much later than asked. On a virtual machine the host can stop
 * a virtual CPU: on the project's VM, the server's CPU stopped for ~100 ms at a time, in about half the
 * 4000/s runs, and a second sleeper on the other CPU and the packets captured there went on meanwhile
 * (docs/performance.md, DHCP). Every server on that CPU then answers ~600 DISCOVERs late, whatever it does,
 * so the bench says when it happened beside the figures it spoiled.
 */
import { spawn } from 'node:child_process';

export interface CpuFreeze {
  /** When the sleeper went to sleep, ms since the epoch. */
  readonly at: number;
  /** How long it was away, ms. */
  readonly ms: number;
}

/**
 * How often the sleeper wakes. It shares the server's core, so each wake-up takes the core from the server
 * for a moment: every 5 ms is a fifth of the wake-ups of the 1 ms it used to be, and still sees a 20 ms stop.
 */
const TICK_MS = 5;

/**
 * How the sleeper's node runs: without V8's compilers (a few bytecodes a tick need none) and with the
 * collector on its own thread. Measured with perf (2026-12-06) the sleeper's optimising compiler took up to
 * 25 ms of the server's core in a quarter second of a 4000/s burst; with these flags it has no helper
 * thread that could run there.
 */
const SLEEPER_NODE_FLAGS = ['--jitless', '--single-threaded-gc'];

/** The sleeper's source: one line of JSON per late wake-up. */
function sleeperScript(thresholdMs: number): string {
  return [
    'let last = performance.now();',
    'const parent = process.ppid;',
    'const tick = () => {',
    // Its bench is gone (killed outright): nothing will read or end it, so it ends itself.
    '  if (process.ppid !== parent) process.exit(0);',
    '  const now = performance.now();',
    `  if (now - last > ${thresholdMs}) process.stdout.write(JSON.stringify({ at: Math.round(performance.timeOrigin + last), ms: +(now - last).toFixed(1) }) + "\\n");`,
    '  last = now;',
    `  setTimeout(tick, ${TICK_MS});`,
    '};',
    // Said once its start-up is over: the caller starts the load after it, so that start-up does not land in the run.
    'setTimeout(() => { process.stdout.write("ready\\n"); last = performance.now(); tick(); }, 50);',
    'process.on("SIGTERM", () => process.exit(0));',
  ].join('\n');
}

export interface CpuFreezeWatch {
  /** Resolves once the sleeper is watching (its node's start-up is over). */
  readonly ready: Promise<void>;
  /** The stops seen since the last `take` (or the start), and forgets them: one run's share. */
  take(): CpuFreeze[];
  /** Ends the sleeper. */
  stop(): Promise<void>;
}

/**
 * Starts the sleeper on `cpu`; a wake-up `thresholdMs` late counts. One sleeper serves every run of a bench:
 * started per run, its node's start-up (~100 ms of the core without the compilers) landed just before each
 * burst, on the server's core.
 */
export function watchCpuFreezes(cpu: number, thresholdMs = 20): CpuFreezeWatch {
  const child = spawn('taskset', ['-c', String(cpu), process.execPath, ...SLEEPER_NODE_FLAGS, '-e', sleeperScript(thresholdMs)], { stdio: ['ignore', 'pipe', 'ignore'] });
  let output = '';
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
    if (output.startsWith('ready\n')) onReady();
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  // A sleeper that could not start must not hold the bench up.
  void exited.then(onReady);
  return {
    ready,
    take() {
      const lines = output.split('\n');
      // A line still being written stays for the next take.
      output = lines.pop() ?? '';
      return lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as CpuFreeze);
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
