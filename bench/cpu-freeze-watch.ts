/**
 * Whether the CPU the server is pinned to stood still during a run. A sleeper pinned to that CPU wakes every
 * millisecond and notes each wake-up that came much later than asked. On a virtual machine the host can stop
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

/** The sleeper's source: one line of JSON per late wake-up. */
function sleeperScript(thresholdMs: number): string {
  return [
    'let last = performance.now();',
    'const tick = () => {',
    '  const now = performance.now();',
    `  if (now - last > ${thresholdMs}) process.stdout.write(JSON.stringify({ at: Math.round(performance.timeOrigin + last), ms: +(now - last).toFixed(1) }) + "\\n");`,
    '  last = now;',
    '  setTimeout(tick, 1);',
    '};',
    // Said once its start-up is over: the caller starts the load after it, so that start-up does not land in the run.
    'setTimeout(() => { process.stdout.write("ready\\n"); last = performance.now(); tick(); }, 50);',
    'process.on("SIGTERM", () => process.exit(0));',
  ].join('\n');
}

/**
 * Starts the sleeper on `cpu`; `ready` resolves once it is watching (Node's start-up, ~50 ms of that CPU, is
 * over); `stop` ends it and gives what it saw. A wake-up `thresholdMs` late counts.
 */
export function watchCpuFreezes(cpu: number, thresholdMs = 20): { ready: Promise<void>; stop(): Promise<CpuFreeze[]> } {
  const child = spawn('taskset', ['-c', String(cpu), process.execPath, '-e', sleeperScript(thresholdMs)], { stdio: ['ignore', 'pipe', 'ignore'] });
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
    async stop() {
      child.kill('SIGTERM');
      await exited;
      return output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as CpuFreeze);
    },
  };
}
