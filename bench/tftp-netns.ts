/**
 * Two network namespaces joined by a veth pair (server 10.77.N.1, client 10.77.N.2), created for one run
 * and deleted afterwards. Nothing here touches the machine's own interfaces. Needs root.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

export interface NetnsPair {
  readonly server: string;
  readonly client: string;
  readonly serverIp: string;
  /** serverIp first, then the `serverAddresses - 1` extra addresses on the server's interface. */
  readonly serverIps: readonly string[];
  readonly clientIp: string;
  /** Interface names inside each namespace. */
  readonly serverIf: string;
  readonly clientIf: string;
  /** Runs a command in a namespace and waits for it; throws on failure. */
  exec(namespace: string, command: string, args: readonly string[]): string;
  /** Starts a long-running process in a namespace; it is killed (by PID) on destroy(). */
  spawn(namespace: string, command: string, args: readonly string[]): ChildProcess;
  destroy(): void;
}

function ip(args: readonly string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export function canUseNetns(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces';
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    return 'the `ip` command (iproute2) is missing';
  }
  return undefined;
}

export function createNetnsPair(options: { mtu?: number; serverAddresses?: number } = {}): NetnsPair {
  const tag = `${process.pid.toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36)}`.slice(-6);
  const server = `pxdts${tag}`;
  const client = `pxdtc${tag}`;
  const serverIf = `pxdt${tag}a`;
  const clientIf = `pxdt${tag}b`;
  const subnet = 20 + Math.floor(Math.random() * 200);
  const serverIp = `10.77.${subnet}.1`;
  const clientIp = `10.77.${subnet}.2`;
  const serverIps = [serverIp, ...Array.from({ length: (options.serverAddresses ?? 1) - 1 }, (_, i) => `10.77.${subnet}.${i + 3}`)];
  const children = new Set<ChildProcess>();
  let destroyed = false;

  const destroy = (): void => {
    if (destroyed) return;
    destroyed = true;
    for (const child of children) {
      if (child.exitCode === null && child.pid !== undefined) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    for (const namespace of [server, client]) {
      try {
        ip(['netns', 'del', namespace]);
      } catch {
        // never created, or already deleted
      }
    }
  };

  try {
    ip(['netns', 'add', server]);
    ip(['netns', 'add', client]);
    ip(['link', 'add', serverIf, 'type', 'veth', 'peer', 'name', clientIf]);
    ip(['link', 'set', serverIf, 'netns', server]);
    ip(['link', 'set', clientIf, 'netns', client]);
    for (const address of serverIps) ip(['-n', server, 'addr', 'add', `${address}/24`, 'dev', serverIf]);
    ip(['-n', client, 'addr', 'add', `${clientIp}/24`, 'dev', clientIf]);
    for (const [namespace, name] of [
      [server, serverIf],
      [client, clientIf],
    ] as const) {
      if (options.mtu) ip(['-n', namespace, 'link', 'set', name, 'mtu', String(options.mtu)]);
      ip(['-n', namespace, 'link', 'set', 'lo', 'up']);
      ip(['-n', namespace, 'link', 'set', name, 'up']);
    }
  } catch (error) {
    destroy();
    throw error;
  }

  return {
    server,
    client,
    serverIp,
    serverIps,
    clientIp,
    serverIf,
    clientIf,
    exec: (namespace, command, args) =>
      execFileSync('ip', ['netns', 'exec', namespace, command, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
    spawn: (namespace, command, args) => {
      // `ip netns exec` execs the command, so the child's PID is the command's own.
      const child = spawn('ip', ['netns', 'exec', namespace, command, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    },
    destroy,
  };
}
