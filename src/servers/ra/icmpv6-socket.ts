/**
 * A raw ICMPv6 socket for router discovery on one interface. Node has no raw sockets, so it is made through
 * koffi (already our FFI for pinned UDP sockets, see servers/net/device-socket.ts): pinned with
 * SO_BINDTODEVICE, hop limit 255 both ways (RFC 4861 §6.1: receivers drop RAs/RSs with any other), an
 * ICMP6_FILTER that passes only types 133/134 so a busy segment's echo and neighbour traffic never wakes
 * us, multicast loop off so we never hear our own RAs, and ff02::2 joined to hear solicitations.
 * The kernel computes and verifies the ICMPv6 checksum of raw ICMPv6 sockets.
 *
 * Reads are non-blocking (SOCK_NONBLOCK) and drained by the caller on a timer: libuv cannot watch a foreign
 * fd from JavaScript, and a ~100 ms poll is far below what router discovery needs (RFC 4861 lets a router
 * wait up to 500 ms before answering a solicitation).
 */
import koffi from 'koffi';
import { lastErrnoName, libc as loadLibcHandle } from '../net/libc.js';
import ipaddr from '../../protocol/ipaddr.js';
import { IcmpV6Type } from '../../protocol/icmpv6/router-discovery.js';

// Linux values (identical on every architecture Node ships for).
const AF_INET6 = 10;
const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const IPPROTO_ICMPV6 = 58;
const IPPROTO_IPV6 = 41;
const SOL_SOCKET = 1;
const SO_BINDTODEVICE = 25;
const IPV6_UNICAST_HOPS = 16;
const IPV6_MULTICAST_IF = 17;
const IPV6_MULTICAST_HOPS = 18;
const IPV6_MULTICAST_LOOP = 19;
const IPV6_JOIN_GROUP = 20;
const ICMP6_FILTER = 1;
const EAGAIN = 11;
const MAX_INTERFACE_NAME = 15;

export const ALL_NODES = 'ff02::1';
export const ALL_ROUTERS = 'ff02::2';


interface Libc {
  readonly socket: (domain: number, type: number, protocol: number) => number;
  readonly setsockopt: (fd: number, level: number, name: number, value: Buffer, length: number) => number;
  readonly sendto: (fd: number, data: Buffer, length: number, flags: number, address: Buffer, addressLength: number) => number;
  readonly recvfrom: (fd: number, data: Buffer, length: number, flags: number, address: Buffer, addressLength: Buffer) => number;
  readonly ifNameToIndex: (name: string) => number;
  readonly close: (fd: number) => number;
}

let libc: Libc | undefined;

function loadLibc(): Libc {
  if (libc) return libc;
  if (process.platform !== 'linux') throw new Icmp6SocketError(`router advertisements are implemented for Linux only (this is ${process.platform})`, 'ENOTSUP');
  const lib = loadLibcHandle();
  libc = {
    socket: lib.func('int socket(int domain, int type, int protocol)'),
    setsockopt: lib.func('int setsockopt(int fd, int level, int optname, const void *optval, uint32_t optlen)'),
    sendto: lib.func('intptr_t sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t addrlen)'),
    recvfrom: lib.func('intptr_t recvfrom(int fd, void *buf, size_t len, int flags, void *addr, void *addrlen)'),
    ifNameToIndex: lib.func('unsigned int if_nametoindex(const char *name)'),
    close: lib.func('int close(int fd)'),
  };
  return libc;
}

export class Icmp6SocketError extends Error {
  override readonly name = 'Icmp6SocketError';
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

const errnoName = lastErrnoName;

function explain(code: string, syscall: string, device: string): string {
  if (code === 'EPERM' || code === 'EACCES') {
    return `cannot open a raw ICMPv6 socket on ${device} (${syscall}: ${code}): router advertisements need root or CAP_NET_RAW`;
  }
  if (code === 'ENODEV') return `cannot open a raw ICMPv6 socket: there is no interface named "${device}"`;
  return `cannot open a raw ICMPv6 socket on ${device}: ${syscall} failed with ${code}`;
}

function int(value: number): Buffer {
  return Buffer.from(new Int32Array([value]).buffer);
}

function sockaddrIn6(address: string, scopeId: number): Buffer {
  const buffer = Buffer.alloc(28);
  // sa_family is host byte order; every Linux platform Node runs on is little-endian except s390x.
  new Uint16Array(buffer.buffer, buffer.byteOffset, 1)[0] = AF_INET6;
  Buffer.from(ipaddr.IPv6.parse(address).toByteArray()).copy(buffer, 8);
  new Uint32Array(buffer.buffer, buffer.byteOffset + 24, 1)[0] = scopeId;
  return buffer;
}

/** ICMP6_FILTER (Linux semantics: a set bit blocks the type). */
function passOnly(types: readonly number[]): Buffer {
  const words = new Uint32Array(8).fill(0xffffffff);
  for (const type of types) words[type >> 5]! &= ~(1 << (type & 31)) >>> 0;
  return Buffer.from(words.buffer);
}

export interface Icmp6Datagram {
  readonly data: Buffer;
  /** The sender, e.g. fe80::1 (link-local without the zone) or :: for an address-less solicitation. */
  readonly from: string;
}

export interface Icmp6Socket {
  readonly device: string;
  readonly interfaceIndex: number;
  /** Sends one ICMPv6 message; link-local and multicast destinations go out on this socket's interface. */
  send(message: Buffer, destination: string): void;
  /** Every datagram waiting now, without blocking. */
  receive(): Icmp6Datagram[];
  close(): void;
}

/** Opens the router-discovery socket on `device`. Throws Icmp6SocketError with an operator-facing message. */
export function openRouterDiscoverySocket(device: string): Icmp6Socket {
  if (device.length === 0 || device.length > MAX_INTERFACE_NAME || /[\s/\0:]/.test(device)) {
    throw new TypeError(`not an interface name: "${device}"`);
  }
  const lib = loadLibc();
  const interfaceIndex = lib.ifNameToIndex(device);
  if (interfaceIndex === 0) throw new Icmp6SocketError(explain('ENODEV', 'if_nametoindex', device), 'ENODEV');
  const fd = lib.socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
  if (fd < 0) {
    const code = errnoName();
    throw new Icmp6SocketError(explain(code, 'socket', device), code);
  }
  const joinAllRouters = Buffer.concat([Buffer.from(ipaddr.IPv6.parse(ALL_ROUTERS).toByteArray()), int(interfaceIndex)]);
  const steps: Array<[string, number, number, Buffer]> = [
    ['SO_BINDTODEVICE', SOL_SOCKET, SO_BINDTODEVICE, Buffer.from(`${device}\0`)],
    ['IPV6_MULTICAST_IF', IPPROTO_IPV6, IPV6_MULTICAST_IF, int(interfaceIndex)],
    ['IPV6_MULTICAST_HOPS', IPPROTO_IPV6, IPV6_MULTICAST_HOPS, int(255)],
    ['IPV6_UNICAST_HOPS', IPPROTO_IPV6, IPV6_UNICAST_HOPS, int(255)],
    ['IPV6_MULTICAST_LOOP', IPPROTO_IPV6, IPV6_MULTICAST_LOOP, int(0)],
    ['ICMP6_FILTER', IPPROTO_ICMPV6, ICMP6_FILTER, passOnly([IcmpV6Type.ROUTER_SOLICIT, IcmpV6Type.ROUTER_ADVERT])],
    ['IPV6_JOIN_GROUP ff02::2', IPPROTO_IPV6, IPV6_JOIN_GROUP, joinAllRouters],
  ];
  for (const [name, level, option, value] of steps) {
    if (lib.setsockopt(fd, level, option, value, value.length) !== 0) {
      const code = errnoName();
      lib.close(fd);
      throw new Icmp6SocketError(explain(code, `setsockopt(${name})`, device), code);
    }
  }

  let open = true;
  const buffer = Buffer.alloc(2048);
  const from = Buffer.alloc(28);
  const fromLength = Buffer.alloc(4);
  const fromLengthView = new Uint32Array(fromLength.buffer, fromLength.byteOffset, 1);
  return {
    device,
    interfaceIndex,
    send(message, destination) {
      if (!open) throw new Icmp6SocketError(`the ICMPv6 socket on ${device} is closed`, 'EBADF');
      const plain = destination.replace(/%.*$/, '');
      const address = sockaddrIn6(plain, interfaceIndex);
      if (lib.sendto(fd, message, message.length, 0, address, address.length) < 0) {
        const code = errnoName();
        throw new Icmp6SocketError(`sending ICMPv6 to ${plain} on ${device} failed with ${code}`, code);
      }
    },
    receive() {
      const out: Icmp6Datagram[] = [];
      // Bounded so a flood cannot hold the event loop; the rest waits for the next poll.
      for (let i = 0; open && i < 64; i += 1) {
        fromLengthView[0] = from.length;
        const length = Number(lib.recvfrom(fd, buffer, buffer.length, 0, from, fromLength));
        if (length < 0) {
          if (koffi.errno() === EAGAIN) break;
          throw new Icmp6SocketError(`reading ICMPv6 on ${device} failed with ${errnoName()}`, errnoName());
        }
        out.push({ data: Buffer.from(buffer.subarray(0, length)), from: ipaddr.fromByteArray([...from.subarray(8, 24)]).toString() });
      }
      return out;
    },
    close() {
      if (!open) return;
      open = false;
      lib.close(fd);
    },
  };
}
