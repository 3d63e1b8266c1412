/**
 * Network namespaces for integration tests and benches that drive real processes (pxedeck's CLI, udhcpc,
 * dnsmasq, perfdhcp, tcpdump). Every namespace and process is created here, tracked, and removed by
 * destroy(): processes are ended by PID, namespaces deleted by name. Nothing touches this machine's own
 * interfaces: veths are created inside namespaces this module made.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pxedeckCommand } from './pxedeck-command.js';
import { NsProcess, PxedeckProcess, repoRoot, sleep, UdpActor, udpActorCommand } from './ns-process.js';

export { NsProcess, PxedeckProcess, repoRoot, sleep, UdpActor, type Datagram, type InterfaceChange, type UdpActorReply } from './ns-process.js';

/** Why namespace tests cannot run here, or undefined when they can. */
export function netnsUnavailableReason(tools: readonly string[] = []): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux network namespaces';
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces';
  for (const tool of ['ip', ...tools]) {
    const found = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'].some((dir) => existsSync(join(dir, tool)));
    if (!found) return `needs ${tool} (not installed)`;
  }
  return undefined;
}

export interface ExecResult {
  readonly code: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
}

function execQuiet(command: string, args: readonly string[], timeoutMs: number): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      const failure = error as (NodeJS.ErrnoException & { code?: number | string; signal?: string }) | null;
      resolve({
        code: failure ? (typeof failure.code === 'number' ? failure.code : null) : 0,
        signal: failure?.signal ?? null,
        stdout,
        stderr,
      });
    });
  });
}

export interface VethEnd {
  readonly ns: string;
  readonly name: string;
  /** CIDR, e.g. 10.77.0.1/24; none for a client that has no address yet. */
  readonly address?: string;
  readonly mac?: string;
}

const live = new Set<NetnsLab>();
let exitHookInstalled = false;

/** Last resort when the runner exits without afterAll: kill what we started by PID, drop our namespaces. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const lab of live) lab.destroySync();
  });
}

export class NetnsLab {
  readonly prefix: string;
  readonly dir: string;
  private readonly namespaces: string[] = [];
  private readonly processes = new Set<NsProcess>();
  private destroyed = false;

  /** `tag` (a letter or two) tells a leftover namespace's origin at a glance: pxd<tag><pid><random>. */
  constructor(tag: string) {
    this.prefix = `pxd${tag}${(process.pid % 46_656).toString(36)}${randomBytes(2).toString('hex')}`;
    this.dir = mkdtempSync(join(tmpdir(), `${this.prefix}-`));
    live.add(this);
    installExitHook();
  }

  /** Creates namespace `<prefix>-<label>` with lo up. */
  namespace(label: string): string {
    const name = `${this.prefix}-${label}`;
    execFileSync('ip', ['netns', 'add', name], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.namespaces.push(name);
    this.ip(name, 'link', 'set', 'lo', 'up');
    return name;
  }

  ip(ns: string, ...args: string[]): string {
    return execFileSync('ip', ['-n', ns, ...args], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  }

  /** Until the interface's IPv6 link-local address has passed duplicate address detection. */
  async linkLocalReady(ns: string, name: string): Promise<void> {
    for (let i = 0; i < 100; i += 1) {
      const text = this.ip(ns, '-6', 'addr', 'show', 'dev', name, 'scope', 'link');
      if (text.includes('fe80') && !text.includes('tentative')) return;
      await sleep(100);
    }
    throw new Error(`${name} in ${ns} has no usable link-local address`);
  }

  /** What curl gets from `url` inside the namespace (HTTP or TFTP, bracketed IPv6 literals allowed). */
  async curl(ns: string, url: string, context?: () => string): Promise<string> {
    const result = await this.exec(ns, 'curl', ['-sS', '-g', '--max-time', '5', url]);
    if (result.code !== 0) throw new Error(`curl ${url}: exit ${result.code}: ${result.stderr}${context ? `\n${context()}` : ''}`);
    return result.stdout;
  }

  /**
   * A veth between two of our namespaces. Interface names live inside the namespaces, so fixed names
   * (bench0, eth0) cannot collide with another run; the pair is created inside `a.ns`, never in ours.
   */
  veth(a: VethEnd, b: VethEnd): void {
    this.ip(a.ns, 'link', 'add', a.name, 'type', 'veth', 'peer', 'name', b.name, 'netns', b.ns);
    for (const end of [a, b]) {
      if (end.mac) this.ip(end.ns, 'link', 'set', end.name, 'address', end.mac);
      // nodad is IPv6-only; IPv4 addresses are usable at once.
      if (end.address) this.ip(end.ns, 'addr', 'add', end.address, 'dev', end.name);
      this.ip(end.ns, 'link', 'set', end.name, 'up');
    }
    this.waitForCarrier(a.ns, a.name);
    this.waitForCarrier(b.ns, b.name);
  }

  /**
   * Until the link has carrier (LOWER_UP): Node (libuv getifaddrs) hides the addresses of an interface
   * without it, so a server started a moment too early would see no IPv4 address at all.
   */
  waitForCarrier(ns: string, name: string, timeoutMs = 5000): void {
    const deadline = Date.now() + timeoutMs;
    while (!/[<,]LOWER_UP[,>]/.test(this.ip(ns, '-o', 'link', 'show', 'dev', name))) {
      if (Date.now() > deadline) throw new Error(`${name} in ${ns} has no carrier after ${timeoutMs} ms`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }

  setMac(ns: string, name: string, mac: string): void {
    this.ip(ns, 'link', 'set', name, 'down');
    this.ip(ns, 'link', 'set', name, 'address', mac);
    this.ip(ns, 'link', 'set', name, 'up');
    this.waitForCarrier(ns, name);
  }

  /** A short command inside a namespace; never throws on a non-zero exit (the result says). */
  exec(ns: string, command: string, args: readonly string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<ExecResult> {
    if (opts.env) {
      const assignments = Object.entries(opts.env).map(([key, value]) => `${key}=${value ?? ''}`);
      return execQuiet('ip', ['netns', 'exec', ns, 'env', ...assignments, command, ...args], opts.timeoutMs ?? 30_000);
    }
    return execQuiet('ip', ['netns', 'exec', ns, command, ...args], opts.timeoutMs ?? 30_000);
  }

  private track<T extends NsProcess>(proc: T): T {
    this.processes.add(proc);
    void proc.exited.then(() => this.processes.delete(proc));
    return proc;
  }

  private spawnChild(ns: string, command: string, args: readonly string[], stdout: 'pipe' | 'ignore' | number = 'pipe', stdin: 'pipe' | 'ignore' = 'ignore'): ChildProcess {
    if (this.destroyed) throw new Error('lab already destroyed');
    return spawn('ip', ['netns', 'exec', ns, command, ...args], { stdio: [stdin, stdout, 'pipe'], cwd: repoRoot });
  }

  /** A UDP actor in `ns`, ready for commands. */
  async udpActor(ns: string, label: string): Promise<UdpActor> {
    const [node, ...args] = udpActorCommand;
    const actor = this.track(new UdpActor(label, this.spawnChild(ns, node, args, 'pipe', 'pipe')));
    await actor.untilReady();
    return actor;
  }

  /**
   * A long-running process in `ns`, ended by destroy() if the test does not end it first. `stdin: 'pipe'`
   * for one that exits when its input ends (bench/tftp-serve.ts).
   */
  spawn(ns: string, command: string, args: readonly string[], label = command, stdin: 'pipe' | 'ignore' = 'ignore'): NsProcess {
    return this.track(new NsProcess(label, this.spawnChild(ns, command, args, 'pipe', stdin)));
  }

  /**
   * `env [the command's variables] node [its flags] bin/pxedeck.js --headless ...` inside `ns`. `stdoutFd`: send the events to a
   * file instead of parsing them (benchmarks, where the parent reading them would compete for the CPU).
   */
  pxedeck(ns: string, args: readonly string[], opts: { label?: string; nodeArgs?: readonly string[] } = {}): PxedeckProcess {
    const child = this.spawnChild(ns, 'env', [...pxedeckCommand(opts.nodeArgs).slice(1), '--headless', ...args]);
    return this.track(new PxedeckProcess(opts.label ?? 'pxedeck', child));
  }

  /** Like pxedeck(), with stdout written straight to `stdoutFd` (an open file). */
  pxedeckToFile(ns: string, args: readonly string[], stdoutFd: number, opts: { label?: string; nodeArgs?: readonly string[] } = {}): NsProcess {
    const child = this.spawnChild(ns, 'env', [...pxedeckCommand(opts.nodeArgs).slice(1), '--headless', ...args], stdoutFd);
    return this.track(new NsProcess(opts.label ?? 'pxedeck', child));
  }

  /**
   * dnsmasq as a DHCP server on `iface` only: no DNS, no config file, no daemonising, leases in the lab
   * dir. `args` carries the DHCP configuration (--dhcp-range=...). `log`: log every DHCP packet to stderr
   * (off for benchmarks).
   */
  async dnsmasq(ns: string, iface: string, args: readonly string[], opts: { label?: string; log?: boolean } = {}): Promise<NsProcess> {
    const label = opts.label ?? 'dnsmasq';
    const proc = this.spawn(
      ns,
      'dnsmasq',
      [
        '--no-daemon',
        '--conf-file=/dev/null',
        `--interface=${iface}`,
        '--bind-interfaces',
        '--port=0',
        '--log-facility=-',
        ...(opts.log === false ? [] : ['--log-dhcp']),
        '--pid-file=',
        `--dhcp-leasefile=${join(this.dir, `${label}.leases`)}`,
        // The lab dir is private to root; dnsmasq's default user could not write its lease file there.
        '--user=root',
        '--group=root',
        ...args,
      ],
      label,
    );
    await proc.waitForOutput(/started, version/, 10_000);
    return proc;
  }

  /**
   * tcpdump writing `file` (packet-buffered, so it can be read while running) on `iface` in `ns`. Stop it
   * with SIGINT so the file is flushed and closed.
   */
  async tcpdump(ns: string, iface: string, file: string, filter = 'udp'): Promise<NsProcess> {
    // -Z root: tcpdump would otherwise drop to its own user, which cannot write into the private lab dir.
    // --immediate-mode: without it packets wait in the kernel's ring for up to a second, and those still
    // there when tcpdump is stopped never reach the file.
    const proc = this.spawn(
      ns,
      'tcpdump',
      ['-i', iface, '-n', '-U', '--immediate-mode', '-s', '0', '-Z', 'root', '-w', file, filter],
      `tcpdump ${iface}`,
    );
    await proc.waitForOutput(/listening on/, 10_000);
    return proc;
  }

  /** PIDs of every process still running inside `ns` (what `ip netns pids` sees). */
  pidsIn(ns: string): number[] {
    try {
      return execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean)
        .map(Number);
    } catch {
      return [];
    }
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await Promise.all([...this.processes].map((proc) => proc.stop('SIGTERM', 2000)));
    for (const ns of this.namespaces.reverse()) {
      // Children our processes started (tsx's esbuild service) leave with their parent's pipes; any that
      // linger still pin nothing we need, and deleting the namespace frees its interfaces.
      await execQuiet('ip', ['netns', 'del', ns], 10_000);
    }
    this.namespaces.length = 0;
    rmSync(this.dir, { recursive: true, force: true });
    live.delete(this);
  }

  /** For process 'exit' handlers, where nothing asynchronous runs. */
  destroySync(): void {
    for (const proc of this.processes) {
      if (proc.hasExited) continue;
      try {
        process.kill(proc.pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    for (const ns of this.namespaces) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore', timeout: 10_000 });
      } catch {
        // Already deleted.
      }
    }
    this.namespaces.length = 0;
    rmSync(this.dir, { recursive: true, force: true });
    live.delete(this);
  }
}
