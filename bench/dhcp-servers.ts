/** The DHCP servers bench:dhcp measures, each started the same way in the lab's server namespace. */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep, type NetnsLab, type NsProcess } from '../test/support/netns.js';
import { pxedeckCommand } from '../test/support/pxedeck-command.js';
import { shellWord } from '../test/support/shell-quote.js';

/** `console`: pxedeck as the technician runs it, its console in a tmux terminal, instead of --headless. */
export type ServerName = 'pxedeck' | 'console' | 'kea' | 'dnsmasq' | 'floor';
export const serverNames: readonly ServerName[] = ['pxedeck', 'console', 'kea', 'dnsmasq', 'floor'];

/** The runs of pxedeck itself, headless and as the console. */
export const isPxedeck = (server: string): server is 'pxedeck' | 'console' => server === 'pxedeck' || server === 'console';

/** Where and how the servers under test run: the same pool and namespace for each. */
export interface ServerSetup {
  readonly lab: NetnsLab;
  /** The server's namespace; its end of the veth is `srv0`. */
  readonly ns: string;
  /** Where leases, event files and logs go (see --data-on). */
  readonly dataRoot: string;
  readonly serverIp: string;
  readonly pool: { readonly first: string; readonly last: string; readonly mask: string };
  /** Every thread of each server onto CPU 0 (perfdhcp runs on CPU 1). */
  readonly pin: boolean;
  /** More pxedeck flags (--pxedeck-args). */
  readonly pxedeckArgs: readonly string[];
  /** pxedeck's headless JSON events to a file (as a real log would), or to /dev/null. */
  readonly eventsToFile: boolean;
  /** The terminal the `console` server draws in. */
  readonly consoleSize: { readonly columns: number; readonly rows: number };
}

export interface Started {
  readonly pid: number;
  /** What it left behind if it is no longer running; undefined while it runs. */
  readonly exited: () => string | undefined;
  /** The console's screen, when pxedeck runs as the console. */
  readonly screen?: () => string;
  readonly stop: () => Promise<void>;
}

/** Until something in `ns` has UDP port 67 bound (the events go to a file, so we cannot wait for them). */
async function waitForPort67(lab: NetnsLab, ns: string, label: string, exited: () => string | undefined): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { stdout } = await lab.exec(ns, 'cat', ['/proc/net/udp']);
    if (/^\s*\d+: [0-9A-F]{8}:0043 /m.test(stdout)) return;
    const left = exited();
    if (left !== undefined || Date.now() > deadline) throw new Error(`${label} did not start listening on 67: ${left ?? 'still starting after 20 s'}`);
    await sleep(100);
  }
}

function startedProcess(proc: NsProcess, stop: () => Promise<void>): Started {
  return { pid: proc.pid, exited: () => (proc.hasExited ? proc.tail() : undefined), stop };
}

/** The data dir of the pxedeck run named `label`. */
const pxedeckDataDir = (setup: ServerSetup, label: string) => join(setup.dataRoot, `${label}-data`);

/** Where the pxedeck run named `label` writes its events: stdout's file headless, the event log as the console. */
export function pxedeckEventsPath(setup: ServerSetup, label: string): string {
  if (label === 'console') return join(pxedeckDataDir(setup, label), 'events', 'events.jsonl');
  return setup.eventsToFile ? join(setup.dataRoot, `${label}-events.jsonl`) : '/dev/null';
}

function pxedeckArgs(setup: ServerSetup, label: string): string[] {
  const { pool } = setup;
  // perfdhcp's 10,000 made-up clients are all new at first: no new-MAC limit, as kea has none.
  return ['--interface', 'srv0', '--mode', 'dhcp', '--pool', `${pool.first}-${pool.last}`, '--data-dir', pxedeckDataDir(setup, label), '--probe-ms', '200', '--new-macs-per-second', '0', ...setup.pxedeckArgs];
}

/** One server started in the setup's namespace, listening on port 67 and, with the setup's `pin`, on CPU 0. */
export async function startServer(setup: ServerSetup, name: ServerName, nodeArgs: readonly string[]): Promise<Started> {
  const started =
    name === 'pxedeck' ? await startPxedeck(setup, 'pxedeck', nodeArgs) : name === 'console' ? await startPxedeckConsole(setup, 'console', nodeArgs) : name === 'kea' ? await startKea(setup) : name === 'floor' ? await startFloor(setup) : await startDnsmasq(setup);
  return pinServer(setup, started);
}

export async function startPxedeck(setup: ServerSetup, label: string, nodeArgs: readonly string[] = []): Promise<Started> {
  const { lab, ns } = setup;
  const fd = openSync(pxedeckEventsPath(setup, label), 'w');
  const proc = lab.pxedeckToFile(ns, pxedeckArgs(setup, label), fd, { label, nodeArgs });
  closeSync(fd);
  const started = startedProcess(proc, async () => {
    const { code } = await proc.stop('SIGTERM', 10_000);
    if (code !== 0) console.error(`${label} exited with ${code}: ${proc.stderr.slice(-1000)}`);
  });
  await waitForPort67(lab, ns, label, started.exited);
  return started;
}

/**
 * pxedeck's console in a private tmux server whose pane runs it inside the lab's namespace, at the given
 * size: the bench then measures the server a technician watches, frames drawn on the same thread.
 */
async function startPxedeckConsole(setup: ServerSetup, label: string, nodeArgs: readonly string[]): Promise<Started> {
  const { lab, ns, dataRoot, consoleSize: size } = setup;
  const socket = `${lab.prefix}${label}`.replace(/[^A-Za-z0-9]/g, '');
  const tmux = (...args: string[]) => {
    const result = spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  const stderrPath = join(dataRoot, `${label}-stderr.txt`);
  // Ink draws nothing until exit when it believes it runs in CI.
  const command = ['ip', 'netns', 'exec', ns, 'env', '-u', 'CI', '-u', 'CONTINUOUS_INTEGRATION', ...pxedeckCommand(nodeArgs).slice(1), ...pxedeckArgs(setup, label)];
  // The pane stays after pxedeck ends, with its exit code on the screen; the sleep bounds it if the bench dies.
  tmux('new-session', '-d', '-x', String(size.columns), '-y', String(size.rows), `${command.map(shellWord).join(' ')} 2>${shellWord(stderrPath)}; echo "pxedeck exited $?"; sleep 600`);
  const screen = () => tmux('capture-pane', '-p');
  const closeTmux = () => void spawnSync('tmux', ['-L', socket, 'kill-server']);
  const exited = () => {
    const shown = screen();
    if (!/pxedeck exited \d+/.test(shown)) return undefined;
    return `${shown.trim()}\n${existsSync(stderrPath) ? readFileSync(stderrPath, 'utf8').slice(-1000) : ''}`;
  };
  try {
    await waitForPort67(lab, ns, label, exited);
  } catch (error) {
    closeTmux();
    throw error;
  }
  // The namespace holds pxedeck alone: tmux and the pane's shell stay outside it, `ip netns exec` execs into it.
  const pids = lab.pidsIn(ns);
  if (pids.length !== 1) {
    closeTmux();
    throw new Error(`${label}: expected pxedeck alone in ${ns}, found pids ${pids.join(' ')}`);
  }
  const pid = pids[0]!;
  return {
    pid,
    exited,
    screen,
    stop: async () => {
      process.kill(pid, 'SIGTERM');
      const deadline = Date.now() + 10_000;
      while (exited() === undefined && Date.now() < deadline) await sleep(100);
      const left = exited();
      if (left === undefined) console.error(`${label} did not end within 10 s of SIGTERM`);
      else if (!/pxedeck exited 0/.test(left)) console.error(`${label}: ${left}`);
      closeTmux();
    },
  };
}

/**
 * The runs measure a running server, as they do kea: pxedeck's start-up warm-up (bounded at 10 s; 1.3-2.3 s here)
 * ends before the load starts, instead of overlapping the bench's own 2 s warm-up and, on a slow moment, the burst.
 */
export async function waitForWarmUp(setup: ServerSetup, eventsPath: string, started: Started): Promise<string | undefined> {
  if (eventsPath === '/dev/null' || /--dhcp-warm-up[ =]0\b/.test(setup.pxedeckArgs.join(' '))) return undefined;
  const deadline = Date.now() + 12_000;
  for (;;) {
    const notice = warmUpNotice(eventsPath);
    if (notice !== undefined || started.exited() !== undefined || Date.now() > deadline) return notice;
    await sleep(100);
  }
}

/** pxedeck's notice about its start-up warm-up, from the first 8 MB of its events (it comes within a second of start). */
function warmUpNotice(eventsPath: string): string | undefined {
  if (!existsSync(eventsPath)) return undefined;
  const fd = openSync(eventsPath, 'r');
  try {
    const head = Buffer.alloc(8 << 20);
    const length = readSync(fd, head, 0, head.length, 0);
    const line = head.toString('utf8', 0, length).split('\n').find((text) => text.includes('"message":"DHCP warm-up'));
    return line ? (JSON.parse(line) as { message: string }).message : undefined;
  } finally {
    closeSync(fd);
  }
}

/** Every thread of the server onto CPU 0 (perfdhcp runs on CPU 1). */
export async function pinServer(setup: ServerSetup, started: Started): Promise<Started> {
  const { lab, ns } = setup;
  if (!setup.pin) return started;
  const result = await lab.exec(ns, 'taskset', ['-a', '-c', '-p', '0', String(started.pid)]);
  if (result.code !== 0) throw new Error(`taskset ${started.pid}: ${result.stderr}`);
  return started;
}

/**
 * kea-dhcp4 with the same pool, leases in a memfile CSV (kea appends each lease change to it; it does not
 * fsync), UDP sockets (the traffic is relayed), logging at its default INFO level (nothing per packet).
 */
async function startKea(setup: ServerSetup): Promise<Started> {
  const { lab, ns, dataRoot, pool } = setup;
  const config = {
    Dhcp4: {
      'interfaces-config': { interfaces: ['srv0'], 'dhcp-socket-type': 'udp' },
      'lease-database': { type: 'memfile', persist: true, name: join(dataRoot, 'kea-leases.csv'), 'lfc-interval': 0 },
      'valid-lifetime': 3600,
      subnet4: [{ id: 1, subnet: '10.77.0.0/16', pools: [{ pool: `${pool.first} - ${pool.last}` }] }],
      loggers: [{ name: 'kea-dhcp4', output_options: [{ output: join(dataRoot, 'kea.log') }], severity: 'INFO' }],
    },
  };
  const configPath = join(dataRoot, 'kea-dhcp4.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const runDir = join(dataRoot, 'kea-run');
  mkdirSync(runDir, { recursive: true });
  const proc = lab.spawn(ns, 'env', [`KEA_LOCKFILE_DIR=${runDir}`, `KEA_PIDFILE_DIR=${runDir}`, 'kea-dhcp4', '-c', configPath], 'kea');
  const started = startedProcess(proc, async () => void (await proc.stop('SIGTERM', 5000)));
  await waitForPort67(lab, ns, proc.label, started.exited);
  return started;
}

/** `--servers floor`: /tmp-free baseline, a Node responder that only patches a template (FLOOR_SCRIPT). */
async function startFloor(setup: ServerSetup): Promise<Started> {
  const { lab, ns } = setup;
  const proc = lab.spawn(ns, process.execPath, [process.env.FLOOR_SCRIPT!, setup.serverIp], 'floor');
  const started = startedProcess(proc, async () => void (await proc.stop('SIGTERM', 5000)));
  await waitForPort67(lab, ns, proc.label, started.exited);
  return started;
}

async function startDnsmasq(setup: ServerSetup): Promise<Started> {
  const { lab, ns, dataRoot, pool } = setup;
  // --keep-in-foreground, not --no-daemon: the latter also copies every log line to stderr.
  const proc = lab.spawn(
    ns,
    'dnsmasq',
    [
      '--keep-in-foreground',
      '--conf-file=/dev/null',
      '--interface=srv0',
      '--bind-interfaces',
      '--port=0',
      '--pid-file=',
      '--user=root',
      '--group=root',
      `--dhcp-leasefile=${join(dataRoot, 'dnsmasq.leases')}`,
      `--dhcp-range=${pool.first},${pool.last},${pool.mask},1h`,
      '--dhcp-lease-max=100000',
      // pxedeck does not ping before offering; dnsmasq would hold each new offer up to 3 s.
      '--no-ping',
      // Its one-line-per-packet log, like pxedeck's event per packet, to a file.
      `--log-facility=${join(dataRoot, 'dnsmasq.log')}`,
    ],
    'dnsmasq',
  );
  const started = startedProcess(proc, async () => void (await proc.stop('SIGTERM', 5000)));
  await waitForPort67(lab, ns, proc.label, started.exited);
  return started;
}
