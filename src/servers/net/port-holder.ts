/**
 * Who holds a port: when our bind on 67 fails, "address in use" alone sends the technician hunting;
 * naming dnsmasq (and that NetworkManager started it) tells them what to stop, as naming nginx does for
 * HTTP's 80. Linux only: reads /proc/net/{udp,tcp}{,6} of our own network namespace, then finds the socket's
 * inode among every process's fds.
 */
import { endianness } from 'node:os';
import { readdir, readFile, readlink } from 'node:fs/promises';

export type IpFamily = 4 | 6;
export type SocketProtocol = 'udp' | 'tcp';

/** The `st` column of /proc/net/tcp for a listening socket (TCP_LISTEN). */
const TCP_LISTEN = 0x0a;

/** One line of /proc/net/{udp,tcp}{,6}. */
export interface ProcNetSocket {
  readonly family: IpFamily;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** The kernel's state number (for TCP, 0x0A is listening). */
  readonly state: number;
  readonly uid: number;
  readonly inode: number;
}

/**
 * A socket bound to the port and, when we could see it, the process holding it. `pid` is absent when no
 * visible process holds the inode (another PID namespace, or we are not root and cannot read its fds).
 * Several processes can hold one socket (fork), so one socket may give several holders.
 */
export interface PortHolder {
  readonly family: IpFamily;
  readonly localAddress: string;
  readonly localPort: number;
  readonly inode: number;
  readonly uid: number;
  readonly pid?: number;
  readonly command?: string;
  readonly cmdline?: string;
  readonly parentPid?: number;
  readonly parentCommand?: string;
}

/** The kernel prints each 32-bit word of the address in host byte order as %08X. */
function decodeAddress(hex: string, family: IpFamily, order: 'LE' | 'BE'): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((word) => {
    const value = Number.parseInt(word, 16);
    const be = [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff];
    return order === 'LE' ? be.reverse() : be;
  });
  if (family === 4) return bytes.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return compressIpv6(groups);
}

function compressIpv6(groups: string[]): string {
  // Longest run of zero groups (length ≥ 2) becomes "::", as inet_ntop does.
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  if (bestLength < 2) return groups.join(':');
  const head = groups.slice(0, bestStart).join(':');
  const tail = groups.slice(bestStart + bestLength).join(':');
  const text = `${head}::${tail}`;
  // IPv4-mapped addresses read better the usual way.
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(text);
  if (mapped) {
    const high = Number.parseInt(mapped[1]!, 16);
    const low = Number.parseInt(mapped[2]!, 16);
    return `::ffff:${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
  }
  return text;
}

/** Parses the text of /proc/net/{udp,tcp} (family 4) or /proc/net/{udp,tcp}6 (family 6): one layout. Unparseable lines are skipped. */
export function parseProcNetSockets(
  text: string,
  family: IpFamily,
  byteOrder: 'LE' | 'BE' = endianness(),
): ProcNetSocket[] {
  const addressHexLength = family === 4 ? 8 : 32;
  const entries: ProcNetSocket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
    if (fields.length < 10) continue;
    const local = /^([0-9A-Fa-f]+):([0-9A-Fa-f]{4})$/.exec(fields[1]!);
    const remote = /^([0-9A-Fa-f]+):([0-9A-Fa-f]{4})$/.exec(fields[2]!);
    if (!local || !remote || local[1]!.length !== addressHexLength || remote[1]!.length !== addressHexLength) continue;
    const state = Number.parseInt(fields[3]!, 16);
    const uid = Number.parseInt(fields[7]!, 10);
    const inode = Number.parseInt(fields[9]!, 10);
    if (!Number.isFinite(state) || !Number.isFinite(uid) || !Number.isFinite(inode)) continue;
    entries.push({
      family,
      localAddress: decodeAddress(local[1]!, family, byteOrder),
      localPort: Number.parseInt(local[2]!, 16),
      remoteAddress: decodeAddress(remote[1]!, family, byteOrder),
      remotePort: Number.parseInt(remote[2]!, 16),
      state,
      uid,
      inode,
    });
  }
  return entries;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** pid → the socket inodes it holds (only the wanted ones). Processes we may not inspect are skipped. */
async function processesHoldingInodes(procRoot: string, inodes: ReadonlySet<number>): Promise<Map<number, number[]>> {
  const found = new Map<number, number[]>();
  const pids = (await readdir(procRoot).catch(() => [] as string[])).filter((name) => /^\d+$/.test(name));
  await Promise.all(
    pids.map(async (pid) => {
      const fdDir = `${procRoot}/${pid}/fd`;
      const fds = await readdir(fdDir).catch(() => [] as string[]);
      for (const fd of fds) {
        const target = await readlink(`${fdDir}/${fd}`).catch(() => '');
        const match = /^socket:\[(\d+)\]$/.exec(target);
        if (!match) continue;
        const inode = Number(match[1]);
        if (!inodes.has(inode)) continue;
        const list = found.get(inode) ?? [];
        if (!list.includes(Number(pid))) list.push(Number(pid));
        found.set(inode, list);
      }
    }),
  );
  return found;
}

/**
 * A process's name and arguments may hold line breaks or a terminal's escape sequences (any process can name
 * itself so), and they are printed to the operator's terminal: each run of control characters becomes a space.
 */
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]+/g;

async function describeProcess(procRoot: string, pid: number) {
  const command = (await readText(`${procRoot}/${pid}/comm`))?.trim().replace(CONTROL_CHARACTERS, ' ');
  const rawCmdline = await readText(`${procRoot}/${pid}/cmdline`);
  const cmdline = rawCmdline?.replace(/\0+$/, '').split('\0').join(' ').replace(CONTROL_CHARACTERS, ' ');
  // /proc/pid/stat: "pid (comm) state ppid ..."; comm may contain spaces and parens, so split after the last ')'.
  const stat = await readText(`${procRoot}/${pid}/stat`);
  const afterComm = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
  const parentPid = afterComm?.[1] ? Number(afterComm[1]) : undefined;
  const parentCommand =
    parentPid !== undefined && parentPid > 0 ? (await readText(`${procRoot}/${parentPid}/comm`))?.trim() : undefined;
  return { command, cmdline, parentPid, parentCommand };
}

export interface FindPortHolderOptions {
  /** UDP by default. */
  readonly protocol?: SocketProtocol;
  /** Which tables to read; both by default. */
  readonly families?: readonly IpFamily[];
  /** For tests only. */
  readonly procRoot?: string;
}

/**
 * Every UDP socket bound to `port` in our network namespace (TCP: every socket listening on it), with the
 * processes holding it. Sockets that are only connected to that port from elsewhere do not count: only the
 * local port; and for TCP a connection's own socket on the port does not hold it.
 */
export async function findPortHolders(port: number, options: FindPortHolderOptions = {}): Promise<PortHolder[]> {
  const procRoot = options.procRoot ?? '/proc';
  const protocol = options.protocol ?? 'udp';
  const families = options.families ?? [4, 6];
  const sockets: ProcNetSocket[] = [];
  for (const family of families) {
    const text = await readText(`${procRoot}/net/${protocol}${family === 4 ? '' : '6'}`);
    if (!text) continue;
    const holding = (entry: ProcNetSocket) => entry.localPort === port && (protocol === 'udp' || entry.state === TCP_LISTEN);
    sockets.push(...parseProcNetSockets(text, family).filter(holding));
  }
  if (sockets.length === 0) return [];
  const byInode = await processesHoldingInodes(procRoot, new Set(sockets.map((entry) => entry.inode).filter((i) => i > 0)));
  const holders: PortHolder[] = [];
  for (const socket of sockets) {
    const base = {
      family: socket.family,
      localAddress: socket.localAddress,
      localPort: socket.localPort,
      inode: socket.inode,
      uid: socket.uid,
    };
    const pids = byInode.get(socket.inode) ?? [];
    if (pids.length === 0) holders.push(base);
    for (const pid of pids.sort((a, b) => a - b)) {
      const info = await describeProcess(procRoot, pid);
      holders.push({
        ...base,
        pid,
        ...(info.command !== undefined && { command: info.command }),
        ...(info.cmdline !== undefined && { cmdline: info.cmdline }),
        ...(info.parentPid !== undefined && { parentPid: info.parentPid }),
        ...(info.parentCommand !== undefined && { parentCommand: info.parentCommand }),
      });
    }
  }
  return holders;
}

const CMDLINE_LIMIT = 160;

/** "dnsmasq (pid 812: /usr/sbin/dnsmasq --conf-file=… , started by NetworkManager) on 0.0.0.0:67" per holder, joined. */
export function describePortHolders(holders: readonly PortHolder[]): string {
  if (holders.length === 0) return 'a process we could not identify';
  const parts = holders.map((holder) => {
    const where = `${holder.family === 6 ? `[${holder.localAddress}]` : holder.localAddress}:${holder.localPort}`;
    if (holder.pid === undefined) {
      return `a socket on ${where} (inode ${holder.inode}, uid ${holder.uid}) whose process we cannot see (run as root to see it)`;
    }
    const cmdline =
      holder.cmdline && holder.cmdline.length > CMDLINE_LIMIT ? `${holder.cmdline.slice(0, CMDLINE_LIMIT)}…` : holder.cmdline;
    const details = [`pid ${holder.pid}`];
    if (cmdline) details[0] += `: ${cmdline}`;
    if (holder.parentCommand === 'NetworkManager') details.push("started by NetworkManager's shared connection mode");
    else if (holder.parentCommand === 'libvirtd') details.push('started by libvirt for a virtual network');
    return `${holder.command ?? 'unknown'} (${details.join(', ')}) on ${where}`;
  });
  return [...new Set(parts)].join('; ');
}
