/**
 * `struct sockaddr_in` / `sockaddr_in6` and the descriptor behind a dgram socket, for the system calls
 * made through koffi (bind on a pinned socket, sendto on a transfer's socket).
 */
import type { Socket } from 'node:dgram';
import { isIPv4 } from 'node:net';
import { endianness } from 'node:os';
import ipaddr from '../../protocol/ipaddr.js';

// Linux values (x86, arm, riscv alike; these socket constants differ only on mips/sparc/alpha).
export const AF_INET = 2;
export const AF_INET6 = 10;

/** sa_family is in host byte order, the port in network order. */
function writeHostUInt16(buffer: Buffer, value: number, offset: number): void {
  if (endianness() === 'LE') buffer.writeUInt16LE(value, offset);
  else buffer.writeUInt16BE(value, offset);
}

/**
 * The socket address of an IP literal. IPv6 zone ids must be numeric (an interface index); a named zone
 * (`%eth0`) throws, since resolving it is the caller's business.
 */
export function sockaddr(address: string, port: number): Buffer {
  if (isIPv4(address)) {
    const buffer = Buffer.alloc(16);
    writeHostUInt16(buffer, AF_INET, 0);
    buffer.writeUInt16BE(port, 2);
    Buffer.from(ipaddr.IPv4.parse(address).toByteArray()).copy(buffer, 4);
    return buffer;
  }
  const [literal = '', zone] = address.split('%');
  const buffer = Buffer.alloc(28); // flowinfo stays 0
  writeHostUInt16(buffer, AF_INET6, 0);
  buffer.writeUInt16BE(port, 2);
  Buffer.from(ipaddr.IPv6.parse(literal).toByteArray()).copy(buffer, 8);
  if (zone !== undefined) {
    if (!/^\d+$/.test(zone)) throw new TypeError(`zone id is not an interface index: ${address}`);
    buffer.writeUInt32LE(Number(zone), 24);
  }
  return buffer;
}

/**
 * The descriptor behind a bound dgram socket. Node keeps its handle under a private symbol; `_handle`
 * reaches the same object but prints a deprecation warning (DEP0112).
 */
export function descriptorOf(socket: Socket): number | undefined {
  for (const symbol of Object.getOwnPropertySymbols(socket)) {
    if (symbol.description !== 'state symbol') continue;
    const state = (socket as unknown as Record<symbol, { handle?: { fd?: unknown } } | undefined>)[symbol];
    const fd = state?.handle?.fd;
    return typeof fd === 'number' && fd >= 0 ? fd : undefined;
  }
  return undefined;
}
