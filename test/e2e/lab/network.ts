// The lab network: a "server" namespace and a "switch" namespace whose bridge joins the server's veth
// peer and one tap per VM. Nothing here ever touches the host's own namespace or interfaces: every link is
// created directly inside a namespace this module made, and destroy() removes them all.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, runSyncQuiet, sleep, type RunResult } from './exec.js';

export const labSubnet4 = { prefix: '10.77.0', cidr: '10.77.0.0/24', mask: '255.255.255.0' } as const;
export const labServer4 = '10.77.0.1';
export const labServer6 = 'fd77::1';

/** A namespace with one veth into the lab bridge. */
export type LabHost = {
  ns: string;
  /** The host's interface (its end of the veth); what a server binds to. */
  iface: string;
  ip4: string;
  ip6: string;
};

export type Tap = { ns: string; name: string };

export type LabProcess = {
  readonly pid: number;
  readonly ns: string;
  readonly command: readonly string[];
  readonly child: ChildProcess;
  /** Where stdout and stderr go (one file), when a log was asked for. */
  readonly logFile: string | undefined;
  /** Settles with the exit code (or signal name) once the process is gone. */
  readonly exited: Promise<number | string>;
  readonly hasExited: () => boolean;
  /** SIGTERM by PID, SIGKILL after graceMs; resolves once it has exited. */
  readonly stop: (graceMs?: number) => Promise<void>;
};

export type SpawnOptions = {
  /** Append stdout+stderr to this file; default: discarded unless onOutput is given. */
  logFile?: string;
  /** Receives stdout+stderr chunks as text (e.g. to wait for a "ready" line). */
  onOutput?: (text: string) => void;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
};

export type Lab = {
  readonly id: string;
  /** The switch namespace: holds the bridge, the taps, and the QEMU processes. */
  readonly switchNs: string;
  readonly bridge: string;
  /** The server box: 10.77.0.1/24 and fd77::1/64 on `server.iface`. */
  readonly server: LabHost;
  /** Scratch directory for logs, pcaps, VM vars; removed by destroy() unless keepDir. */
  readonly dir: string;
  /** Another box on the same segment (e.g. a site DHCP server beside pxedeck's proxy). */
  /** `acceptRa`: let router advertisements configure the host (an RA observer); lab boxes otherwise ignore them. */
  addHost(opts: { ip4: string; ip6?: string; label?: string; acceptRa?: boolean }): Promise<LabHost>;
  /**
   * One tap per VM, already enslaved to the bridge and up. `dead`: up but on no bridge, a segment where nothing
   * answers (a second NIC's cable into a switch without boot services).
   */
  addTap(opts?: { dead?: boolean }): Promise<Tap>;
  exec(ns: string, cmd: string, args: readonly string[], opts?: { timeoutMs?: number }): Promise<RunResult>;
  /** Long-running process inside a namespace, tracked by PID and stopped by destroy(). */
  spawn(ns: string, cmd: string, args: readonly string[], opts?: SpawnOptions): LabProcess;
  /** Stops every tracked process, deletes links and namespaces. Safe to call twice and after failures. */
  destroy(): Promise<void>;
  /** Namespaces and interface names this lab created (for leak assertions). */
  readonly names: { namespaces: readonly string[]; interfaces: readonly string[] };
};

/** Why namespace tests cannot run here, or undefined when they can. */
export function labUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return 'the VM lab needs Linux network namespaces';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'the VM lab needs root (ip netns, taps)';
  if (!existsSync('/usr/sbin/ip') && !existsSync('/sbin/ip') && !existsSync('/usr/bin/ip')) return 'iproute2 (ip) is not installed';
  return undefined;
}

const liveLabs = new Set<LabState>();
let exitHookInstalled = false;

type LabState = { namespaces: string[]; processes: Set<LabProcess> };

// Last resort when the test runner exits without afterAll (crash, Ctrl-C): kill what we started, by PID,
// and drop our namespaces. Synchronous because nothing async runs in an 'exit' handler.
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const cleanup = () => {
    for (const state of liveLabs) {
      for (const proc of state.processes) {
        if (!proc.hasExited()) {
          try {
            process.kill(proc.pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      }
      for (const ns of state.namespaces) runSyncQuiet('ip', ['netns', 'del', ns]);
    }
    liveLabs.clear();
  };
  process.once('exit', cleanup);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      cleanup();
      process.kill(process.pid, signal);
    });
  }
}

function newLabId(): string {
  // 6 chars keeps "pxd" + id + "t12" within the 15-char interface name limit.
  return (process.pid % 1296).toString(36).padStart(2, '0') + randomBytes(2).toString('hex');
}

export async function createLab(opts: { keepDir?: boolean } = {}): Promise<Lab> {
  const reason = labUnavailableReason();
  if (reason) throw new Error(reason);
  installExitHook();
  const id = newLabId();
  const prefix = `pxd${id}`;
  const switchNs = `${prefix}-sw`;
  const bridge = `${prefix}br`;
  const state: LabState = { namespaces: [], processes: new Set() };
  const links: { ns: string; name: string }[] = [];
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  liveLabs.add(state);
  let hostCount = 0;
  let tapCount = 0;
  let destroyed = false;

  const exec = (ns: string, cmd: string, args: readonly string[], o: { timeoutMs?: number } = {}) =>
    run('ip', ['netns', 'exec', ns, cmd, ...args], o);
  const ipIn = (ns: string, ...args: string[]) => run('ip', ['-n', ns, ...args]);

  const addNamespace = async (ns: string) => {
    await run('ip', ['netns', 'add', ns]);
    state.namespaces.push(ns);
    await ipIn(ns, 'link', 'set', 'lo', 'up');
  };

  const addHost = async (o: { ip4: string; ip6?: string; label?: string; acceptRa?: boolean }): Promise<LabHost> => {
    const n = hostCount++;
    const ns = `${prefix}-${o.label ?? `h${n}`}`;
    const iface = `${prefix}h${n}`;
    const peer = `${prefix}p${n}`;
    await addNamespace(ns);
    // Created with both ends already inside lab namespaces: the host namespace never sees these links.
    await run('ip', ['link', 'add', 'name', iface, 'netns', ns, 'type', 'veth', 'peer', 'name', peer, 'netns', switchNs]);
    links.push({ ns, name: iface });
    await ipIn(switchNs, 'link', 'set', peer, 'master', bridge);
    await ipIn(switchNs, 'link', 'set', peer, 'up');
    await ipIn(ns, 'addr', 'add', `${o.ip4}/24`, 'dev', iface);
    const ip6 = o.ip6 ?? `fd77::${n + 1}`;
    // nodad: the address is usable at once instead of after ~2 s of duplicate detection.
    await ipIn(ns, 'addr', 'add', `${ip6}/64`, 'dev', iface, 'nodad');
    // A lab box is configured by hand: a router advertising on the segment (dnsmasq, pxedeck itself) must not
    // give it a default route, or pxedeck there would take the bench for an uplink and refuse full DHCP.
    if (!o.acceptRa) await exec(ns, 'sysctl', ['-q', '-w', `net.ipv6.conf.${iface}.accept_ra=0`]);
    await ipIn(ns, 'link', 'set', iface, 'up');
    return { ns, iface, ip4: o.ip4, ip6 };
  };

  const spawnIn = (ns: string, cmd: string, args: readonly string[], o: SpawnOptions = {}): LabProcess => {
    // `ip netns exec` execs the command in place, so the child's PID is the command's PID.
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: o.env ?? process.env,
      cwd: o.cwd,
    });
    if (child.pid === undefined) throw new Error(`cannot spawn ${cmd} in ${ns}`);
    const pid = child.pid;
    const log = o.logFile ? createWriteStream(o.logFile, { flags: 'a' }) : undefined;
    for (const stream of [child.stdout, child.stderr]) {
      stream.on('data', (chunk: Buffer) => {
        log?.write(chunk);
        o.onOutput?.(chunk.toString('utf8'));
      });
    }
    let done = false;
    const exited = new Promise<number | string>((resolve) => {
      child.once('exit', (code, signal) => {
        done = true;
        log?.end();
        state.processes.delete(proc);
        resolve(code ?? signal ?? 'unknown');
      });
      child.once('error', () => {
        done = true;
        state.processes.delete(proc);
        resolve('spawn-error');
      });
    });
    const stop = async (graceMs = 3000) => {
      if (done) return;
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        return;
      }
      const timer = sleep(graceMs).then(() => 'timeout' as const);
      if ((await Promise.race([exited, timer])) === 'timeout' && !done) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // exited between the check and the kill
        }
        await exited;
      }
    };
    const proc: LabProcess = {
      pid,
      ns,
      command: [cmd, ...args],
      child,
      logFile: o.logFile,
      exited,
      hasExited: () => done,
      stop,
    };
    state.processes.add(proc);
    return proc;
  };

  const destroy = async () => {
    if (destroyed) return;
    destroyed = true;
    await Promise.all([...state.processes].map((p) => p.stop(2000)));
    // Deleting links first frees them even if some unknown process still pins a namespace.
    // (deleting one end of a veth deletes its peer in the switch namespace too).
    for (const link of links.reverse()) {
      await run('ip', ['-n', link.ns, 'link', 'del', link.name]).catch(() => undefined);
    }
    for (const ns of [...state.namespaces].reverse()) {
      await run('ip', ['netns', 'del', ns]).catch(() => undefined);
    }
    state.namespaces.length = 0;
    liveLabs.delete(state);
    if (!opts.keepDir) rmSync(dir, { recursive: true, force: true });
  };

  try {
    await addNamespace(switchNs);
    // The switch forwards IPv6 but must not speak it: otherwise the bridge, taps and veth peers send their
    // own router solicitations and neighbour probes into every capture.
    await exec(switchNs, 'sysctl', ['-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    // No STP, no forwarding delay, no multicast snooping: ports forward the moment they are up, like a
    // desktop switch, so firmware DHCP is never delayed by the bridge itself.
    await ipIn(switchNs, 'link', 'add', bridge, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0', 'mcast_snooping', '0');
    links.push({ ns: switchNs, name: bridge });
    await ipIn(switchNs, 'link', 'set', bridge, 'up');
    const server = await addHost({ ip4: labServer4, ip6: labServer6, label: 'srv' });
    return {
      id,
      switchNs,
      bridge,
      server,
      dir,
      addHost,
      addTap: async (tapOpts = {}) => {
        const name = `${prefix}t${tapCount++}`;
        await ipIn(switchNs, 'tuntap', 'add', 'dev', name, 'mode', 'tap');
        links.push({ ns: switchNs, name });
        if (!tapOpts.dead) await ipIn(switchNs, 'link', 'set', name, 'master', bridge);
        await ipIn(switchNs, 'link', 'set', name, 'up');
        return { ns: switchNs, name };
      },
      exec,
      spawn: spawnIn,
      destroy,
      names: {
        get namespaces() {
          return [...state.namespaces];
        },
        get interfaces() {
          return links.map((link) => link.name);
        },
      },
    };
  } catch (error) {
    await destroy();
    throw error;
  }
}

/** Namespaces and host-namespace links whose names start with `prefix` (for "nothing left behind" checks). */
export async function leftovers(prefix: string): Promise<{ namespaces: string[]; links: string[] }> {
  const ns = (await run('ip', ['netns', 'list'])).stdout
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.startsWith(prefix));
  const links = (await run('ip', ['-o', 'link', 'show'])).stdout
    .split('\n')
    .map((line) => /^\d+:\s+([^:@]+)/.exec(line)?.[1] ?? '')
    .filter((name) => name.startsWith(prefix));
  return { namespaces: ns, links };
}

/** A fresh temp dir inside the lab dir (removed with the lab). */
export function labTempDir(lab: Lab, name: string): string {
  return mkdtempSync(join(lab.dir, `${name}-`));
}
