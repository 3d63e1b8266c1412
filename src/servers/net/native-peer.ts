/**
 * System calls straight on a dgram socket's descriptor, for a sender whose throughput is its round-trip
 * time: a TFTP transfer at windowsize 1 sends one block per ACK.
 *
 * - `send`: sendto(2) to the one peer, its address encoded once. Node's send path (argument checks, a
 *   SendWrap per packet, the address parsed on every call) cost ~2 µs of a ~20 µs round trip (measured
 *   against a C echo peer over a veth: 20.7 µs through dgram, 18.8 µs through this).
 * - `receive`: a blocking recvfrom(2) with a timeout, for a thread that has nothing else to do. A thread
 *   asleep in recvfrom is woken by the packet itself, as a synchronous wake-up, on the waker's CPU: the
 *   way tftpd-hpa sleeps. Asleep in epoll, through the event loop, the same round trip cost ~3 µs more
 *   (16.8–17.5 µs against 18.8–21.2 µs in the same measurement).
 *
 * While a thread receives this way the socket is in blocking mode, so the event loop must not run in
 * between: `beginBlocking` … `endBlocking` bracket one synchronous stretch.
 */
import type { Socket } from 'node:dgram';
import ipaddr from '../../protocol/ipaddr.js';
import { optionalLinuxCalls } from './libc.js';
import { setSocketOption, SOL_SOCKET, SO_RCVTIMEO } from './socket-options.js';
import { descriptorOf, sockaddr } from './sockaddr.js';

const F_GETFL = 3;
const F_SETFL = 4;
const O_NONBLOCK = 0o4000;
const MSG_DONTWAIT = 0x40;
const POLLIN = 0x1;

const loadCalls = optionalLinuxCalls((lib) => ({
  sendto: lib.func('long sendto(int fd, const void *data, unsigned long length, int flags, const void *address, uint32_t addressLength)') as (
    fd: number,
    data: Buffer,
    length: number,
    flags: number,
    address: Buffer | null,
    addressLength: number,
  ) => number,
  recvfrom: lib.func('long recvfrom(int fd, void *data, unsigned long length, int flags, void *address, void *addressLength)') as (
    fd: number,
    data: Buffer,
    length: number,
    flags: number,
    address: Buffer,
    addressLength: Buffer,
  ) => number,
  fcntl: lib.func('int fcntl(int fd, int command, int argument)') as (fd: number, command: number, argument: number) => number,
  poll: lib.func('int poll(void *fds, unsigned long count, int timeout)') as (fds: Buffer, count: number, timeoutMs: number) => number,
}));

export interface NativePeer {
  /** Sends one datagram to the peer; false when the kernel did not take it (send it through dgram then). */
  send(packet: Buffer): boolean;
  /** Puts the socket in blocking mode; false when that failed (stay on the event loop). */
  beginBlocking(): boolean;
  /** Back to non-blocking, for the event loop. */
  endBlocking(): void;
  /**
   * Waits up to `timeoutMs` for one datagram (blocking mode only) and leaves it at the start of `inbox`.
   * Returns its length, or -1 on timeout or error.
   */
  receive(timeoutMs: number): number;
  /** The same without waiting, in either mode: -1 when nothing is queued. */
  receiveNow(): number;
  /** Where `receive` leaves each datagram; overwritten by the next call. */
  readonly inbox: Buffer;
  readonly fd: number;
  /** Whether the last received datagram came from the peer's address and port. */
  lastFromPeer(): boolean;
  /** Where the last received datagram came from. */
  lastSender(): { readonly address: string; readonly port: number };
}

/** Largest UDP payload, so that no datagram is cut short. */
const RECEIVE_BUFFER = 65536;

/**
 * The native path to one peer, or undefined where it cannot work (no koffi, no descriptor, a named zone).
 * On a socket already connected to the peer, sends name no address, so the kernel uses the route it keeps.
 */
export function nativePeer(socket: Socket, address: string, port: number, connected = false): NativePeer | undefined {
  const native = loadCalls();
  const fd = descriptorOf(socket);
  if (!native || fd === undefined) return undefined;
  let target: Buffer;
  try {
    target = sockaddr(address, port);
  } catch {
    return undefined;
  }
  const targetLength = target.length;
  const targetWords = Array.from({ length: targetLength / 4 }, (_, i) => target.readUInt32LE(i * 4));
  const inbox = Buffer.allocUnsafe(RECEIVE_BUFFER);
  const from = Buffer.alloc(28);
  const fromLength = Buffer.alloc(4);
  const timeout = Buffer.alloc(16); // struct timeval
  let timeoutSet = -1;
  let savedFlags = -1;

  return {
    send: connected
      ? (packet) => native.sendto(fd, packet, packet.length, 0, null, 0) === packet.length
      : (packet) => native.sendto(fd, packet, packet.length, 0, target, targetLength) === packet.length,
    beginBlocking() {
      const flags = native.fcntl(fd, F_GETFL, 0);
      if (flags < 0 || native.fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) return false;
      savedFlags = flags;
      return true;
    },
    endBlocking() {
      if (savedFlags >= 0) native.fcntl(fd, F_SETFL, savedFlags | O_NONBLOCK);
      savedFlags = -1;
    },
    receive(timeoutMs) {
      // Whole milliseconds, at least one: a zero timeval would mean "wait forever".
      const wanted = Math.max(1, Math.ceil(timeoutMs));
      if (wanted !== timeoutSet) {
        timeout.writeBigInt64LE(BigInt(Math.floor(wanted / 1000)), 0);
        timeout.writeBigInt64LE(BigInt((wanted % 1000) * 1000), 8);
        if (!setSocketOption(fd, SOL_SOCKET, SO_RCVTIMEO, timeout)) return -1;
        timeoutSet = wanted;
      }
      fromLength.writeUInt32LE(from.length, 0);
      return native.recvfrom(fd, inbox, inbox.length, 0, from, fromLength);
    },
    receiveNow() {
      fromLength.writeUInt32LE(from.length, 0);
      return native.recvfrom(fd, inbox, inbox.length, MSG_DONTWAIT, from, fromLength);
    },
    inbox,
    fd,
    lastFromPeer() {
      // Word by word (family and port, then the address; sockaddr_in6's flowinfo is skipped): this runs
      // between every ACK and the next DATA, where a Buffer.compare costs more than the rest together.
      if (from.readUInt32LE(0) !== targetWords[0]) return false;
      if (targetLength === 16) return from.readUInt32LE(4) === targetWords[1];
      return (
        from.readUInt32LE(8) === targetWords[2] &&
        from.readUInt32LE(12) === targetWords[3] &&
        from.readUInt32LE(16) === targetWords[4] &&
        from.readUInt32LE(20) === targetWords[5]
      );
    },
    lastSender() {
      const senderPort = from.readUInt16BE(2);
      const ipv4 = targetLength === 16;
      const bytes = ipv4 ? from.subarray(4, 8) : from.subarray(8, 24);
      return { address: ipaddr.fromByteArray([...bytes]).toString(), port: senderPort };
    },
  };
}

/**
 * Waits until some of several peers' sockets have a datagram (poll(2)): how one thread serves many
 * synchronous transfers, one system call for all of them.
 */
export class ReadableSet {
  private fds = Buffer.alloc(0);
  private count = 0;

  /** Waits up to `timeoutMs`; returns how many are readable (0 on timeout, -1 on error). */
  wait(peers: readonly NativePeer[], timeoutMs: number): number {
    const native = loadCalls();
    if (!native) return -1;
    if (this.fds.length < peers.length * 8) this.fds = Buffer.alloc(peers.length * 16);
    this.count = peers.length;
    // struct pollfd { int fd; short events; short revents; }
    for (let i = 0; i < peers.length; i += 1) {
      this.fds.writeInt32LE(peers[i]!.fd, i * 8);
      this.fds.writeInt16LE(POLLIN, i * 8 + 4);
      this.fds.writeInt16LE(0, i * 8 + 6);
    }
    return native.poll(this.fds, peers.length, Math.max(0, Math.ceil(timeoutMs)));
  }

  /** After `wait`: whether the i-th peer has something (a datagram, or an error to collect). */
  readable(index: number): boolean {
    return index < this.count && this.fds.readInt16LE(index * 8 + 6) !== 0;
  }
}
