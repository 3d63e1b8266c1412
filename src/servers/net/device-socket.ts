/**
 * UDP sockets pinned to one interface. Node's dgram cannot set SO_BINDTODEVICE, and without it a socket
 * on 0.0.0.0:67 hears DISCOVERs from every interface and its broadcast replies leave by the default route
 * (measured: the OFFER went out on the laptop's Wi-Fi). So the fd is made natively through koffi —
 * socket(), SO_BROADCAST, SO_BINDTODEVICE, bind() — and handed to dgram. See design/NETWORKING.md.
 *
 * Never SO_REUSEADDR: with two sockets on :67 unicast reaches only the last one, and a failing bind is how
 * we learn that dnsmasq already serves there. Two sockets pinned to *different* interfaces may both bind
 * 0.0.0.0:67 (the kernel only calls it a conflict when either is unpinned or both share the device), which
 * is what serving several interfaces needs.
 *
 * The one exception is `reuseAddress`, for a socket that only listens on the *client* port 68 (the passive
 * observer of other servers' replies): there sharing is the point, so the laptop's own DHCP client, which
 * sets SO_REUSEADDR too (dhclient, systemd-networkd, NetworkManager, dhcpcd), can still bind it. Never on 67.
 */
import dgram from 'node:dgram';
import { lookup } from 'node:dns';
import { isIP, isIPv4, isIPv6 } from 'node:net';
import { lastErrnoName, libc as loadLibcHandle } from './libc.js';
import { AF_INET, AF_INET6, sockaddr } from './sockaddr.js';
import type { IpFamily } from './port-holder.js';
import { socketOpenError, type SocketOpenContext } from './socket-open-error.js';

export type { IpFamily } from './port-holder.js';

// Linux values (x86, arm, riscv alike; these socket constants differ only on mips/sparc/alpha).
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const IPPROTO_UDP = 17;
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
const SO_BROADCAST = 6;
const SO_BINDTODEVICE = 25;
const SO_RCVBUF = 8;
const SO_RCVBUFFORCE = 33;
const IPPROTO_IPV6 = 41;
const IPV6_V6ONLY = 26;
/** IFNAMSIZ is 16 including the terminating NUL. */
const MAX_INTERFACE_NAME = 15;


interface Libc {
  readonly socket: (domain: number, type: number, protocol: number) => number;
  readonly setsockopt: (fd: number, level: number, name: number, value: Buffer, length: number) => number;
  readonly bind: (fd: number, address: Buffer, length: number) => number;
  readonly close: (fd: number) => number;
}

let libc: Libc | undefined;

function loadLibc(): Libc {
  if (libc) return libc;
  if (process.platform !== 'linux') {
    // macOS would need IP_BOUND_IF by interface index instead; not written yet.
    throw new Error(`pinning a socket to an interface is implemented for Linux only (this is ${process.platform})`);
  }
  const lib = loadLibcHandle();
  libc = {
    socket: lib.func('int socket(int domain, int type, int protocol)'),
    setsockopt: lib.func('int setsockopt(int fd, int level, int optname, const void *optval, uint32_t optlen)'),
    bind: lib.func('int bind(int fd, const void *addr, uint32_t addrlen)'),
    close: lib.func('int close(int fd)'),
  };
  return libc;
}


function resolveFamily(address: string | undefined, family: IpFamily | undefined): { address: string; family: IpFamily } {
  const chosen = family ?? (address !== undefined && isIPv6(address) ? 6 : 4);
  const resolved = address ?? (chosen === 6 ? '::' : '0.0.0.0');
  if (chosen === 4 && !isIPv4(resolved)) throw new TypeError(`not an IPv4 address: ${resolved}`);
  if (chosen === 6 && !isIPv6(resolved)) throw new TypeError(`not an IPv6 address: ${resolved}`);
  return { address: resolved, family: chosen };
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`not a UDP port: ${port}`);
}

export interface DeviceSocketOptions {
  /** Interface name, e.g. enp3s0. */
  readonly device: string;
  readonly port: number;
  /** 0.0.0.0 (or :: for family 6) by default: a DHCP server must hear broadcasts and address-less clients. */
  readonly address?: string;
  readonly family?: IpFamily;
  /**
   * SO_REUSEADDR: share the port with other sockets that set it too. Only for listen-only sockets on the
   * client port 68, never for a server port (see the comment at the top of this file).
   */
  readonly reuseAddress?: boolean;
  /**
   * A larger receive buffer, best effort: SO_RCVBUFFORCE (root or CAP_NET_ADMIN, past net.core.rmem_max),
   * else SO_RCVBUF (capped at rmem_max, 208 KiB on a stock kernel). For a server whose event loop may pause
   * (GC, a lease snapshot, a busy neighbour on the core): what arrives meanwhile waits instead of being dropped.
   */
  readonly receiveBufferBytes?: number;
}

/**
 * A dgram socket bound to `address:port` that only receives packets arriving on `device`, and whose
 * packets (broadcasts included) leave by `device`. IPv4 sockets may send broadcasts; IPv6 ones are
 * V6ONLY, so a DHCPv4 and a DHCPv6 server can share an interface. Rejects with a SocketOpenError.
 */
export async function openDeviceUdpSocket(options: DeviceSocketOptions): Promise<dgram.Socket> {
  const { device, port } = options;
  checkPort(port);
  if (device.length === 0 || device.length > MAX_INTERFACE_NAME || /[\s/\0:]/.test(device)) {
    throw new TypeError(`not an interface name: "${device}"`);
  }
  const { address, family } = resolveFamily(options.address, options.family);
  const lib = loadLibc();
  const context = (syscall: string): SocketOpenContext => ({ syscall, address, port, family, device });
  const errnoName = lastErrnoName;

  const fd = lib.socket(family === 4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
  if (fd < 0) throw await socketOpenError(errnoName(), context('socket'));

  let handedOver = false;
  try {
    const one = Buffer.from(new Int32Array([1]).buffer); // an int in host byte order
    const steps: Array<[string, () => number]> = [
      family === 6
        ? ['setsockopt(IPV6_V6ONLY)', () => lib.setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, one, 4)]
        : ['setsockopt(SO_BROADCAST)', () => lib.setsockopt(fd, SOL_SOCKET, SO_BROADCAST, one, 4)],
      ...(options.reuseAddress
        ? [['setsockopt(SO_REUSEADDR)', () => lib.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, one, 4)] as [string, () => number]]
        : []),
      [
        'setsockopt(SO_BINDTODEVICE)',
        () => lib.setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, Buffer.from(`${device}\0`), device.length + 1),
      ],
      ['bind', () => lib.bind(fd, sockaddr(address, port), family === 4 ? 16 : 28)],
    ];
    for (const [syscall, call] of steps) {
      if (call() !== 0) throw await socketOpenError(errnoName(), context(syscall));
    }
    if (options.receiveBufferBytes) {
      const size = Buffer.from(new Int32Array([options.receiveBufferBytes]).buffer);
      if (lib.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, size, 4) !== 0) lib.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, size, 4);
    }
    const socket = dgram.createSocket({ type: family === 4 ? 'udp4' : 'udp6', lookup: literalLookup });
    try {
      // Both ways bind({fd}) can throw (not a UDP fd, uv_udp_open failing) leave the fd ours to close.
      socket.bind({ fd });
    } catch (error) {
      socket.close();
      throw error;
    }
    handedOver = true;
    // libuv's uv_udp_open turns SO_REUSEADDR on for a descriptor it adopts (measured: with our pinned
    // socket on :67, a later bind of :67 with SO_REUSEADDR succeeded, as dnsmasq's would). The kernel
    // checks the flag of sockets already bound, so turning it off again restores "a second server on
    // this port fails to start" — the rule the header states.
    if (!options.reuseAddress && lib.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, Buffer.alloc(4), 4) !== 0) {
      const error = await socketOpenError(errnoName(), context('setsockopt(SO_REUSEADDR, 0)'));
      socket.close();
      throw error;
    }
    return socket;
  } finally {
    if (!handedOver) lib.close(fd);
  }
}

export interface UdpSocketOptions {
  readonly port: number;
  readonly address?: string;
  readonly family?: IpFamily;
}

/**
 * A plain (unpinned) dgram socket, for loopback and for unicast-only services such as PXE on 4011 bound
 * to an interface address. Same errors as openDeviceUdpSocket; no reuseAddr, for the same reason.
 */
/**
 * Servers reply to address literals: those need no resolver. Node's default resolves even a literal through
 * `dns.lookup`, one deferred callback per datagram sent (a third of the cost of a send); this answers at once
 * and leaves names to `dns.lookup`.
 */
function literalLookup(address: string, family: unknown, callback: (error: Error | null, address: string, family: number) => void): void {
  const version = isIP(address);
  if (version !== 0) return callback(null, address, version);
  lookup(address, { family: family === 6 ? 6 : 4 }, (error, resolved, resolvedFamily) => callback(error, resolved, resolvedFamily));
}

export async function openUdpSocket(options: UdpSocketOptions): Promise<dgram.Socket> {
  checkPort(options.port);
  const { address, family } = resolveFamily(options.address, options.family);
  const socket = dgram.createSocket({ type: family === 4 ? 'udp4' : 'udp6', lookup: literalLookup, ...(family === 6 && { ipv6Only: true }) });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address, port: options.port, exclusive: true }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return socket;
  } catch (error) {
    socket.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (!code) throw error;
    throw await socketOpenError(code, { syscall: 'bind', address, port: options.port, family });
  }
}
