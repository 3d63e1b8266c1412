/**
 * The one guard between the kernel and every UDP server's code. Anyone on the boot network can send a
 * datagram from source port 0 (a raw socket does; no IP stack does), and Node's `send()` to port 0 throws
 * ERR_SOCKET_BAD_PORT synchronously: inside a 'message' handler that ends the process. So:
 * - a datagram from a peer no reply could reach is dropped and counted before any server code sees it;
 * - every reply goes through `sendDatagram`, which refuses such a peer and never throws;
 * - whatever a handler throws (or rejects with) for one datagram becomes a `packet.malformed` event,
 *   never an exception that escapes the socket.
 */
import type { RemoteInfo, Socket } from 'node:dgram';
import { isIP } from 'node:net';
import type { Emit, EventSource } from '../events.js';

export interface DatagramPeer {
  readonly address: string;
  readonly port: number;
}

/** Why no datagram can be sent to `peer` (port 0 or out of range, no address literal); undefined when one can. */
export function unanswerableReason(peer: DatagramPeer): string | undefined {
  if (!Number.isInteger(peer.port) || peer.port < 1 || peer.port > 65535) return `source port ${peer.port} cannot be answered`;
  if (typeof peer.address !== 'string' || isIP(peer.address.replace(/%.*$/, '')) === 0) {
    return `source address ${JSON.stringify(peer.address)} cannot be answered`;
  }
  return undefined;
}

export function peerText(peer: DatagramPeer): string {
  return peer.address.includes(':') ? `[${peer.address}]:${peer.port}` : `${peer.address}:${peer.port}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** How one server reports a datagram it dropped; each server keeps its own count. */
export interface DatagramReport {
  readonly source: EventSource;
  readonly emit: Emit;
  /** Counts one dropped datagram and returns the count so far (the event carries it). */
  readonly countDropped: () => number;
  /** The server's clock (tests set one); Date.now by default. */
  readonly now?: () => number;
}

export function reportDropped(report: DatagramReport, peer: string, length: number, error: string): void {
  try {
    report.emit({ kind: 'packet.malformed', time: (report.now ?? Date.now)(), source: report.source, peer, error, length, count: report.countDropped() });
  } catch {
    // Reporting must not become the crash it reports.
  }
}

/**
 * Runs one datagram's handling: a throw or a rejected promise is reported as that datagram's fault
 * (`could not be handled: …`) and goes no further. For sockets that are not dgram sockets (ICMPv6).
 */
export function handleGuarded(report: DatagramReport, peer: string, length: number, run: () => void | Promise<void>): void {
  const fault = (error: unknown): void => reportDropped(report, peer, length, `could not be handled: ${messageOf(error)}`);
  try {
    const result = run();
    if (result instanceof Promise) result.catch(fault);
  } catch (error) {
    fault(error);
  }
}

/**
 * `socket.on('message', …)` with the guard: unanswerable peers dropped first, the handler's faults
 * contained. Returns what takes the handler off the socket again.
 */
export function onDatagram(socket: Socket, report: DatagramReport, handler: (bytes: Buffer, peer: RemoteInfo) => void | Promise<void>): () => void {
  const listener = (bytes: Buffer, peer: RemoteInfo): void => {
    const why = unanswerableReason(peer);
    if (why !== undefined) {
      reportDropped(report, peerText(peer), bytes.length, `${why}: dropped`);
      return;
    }
    handleGuarded(report, peerText(peer), bytes.length, () => handler(bytes, peer));
  };
  socket.on('message', listener);
  return () => socket.off('message', listener);
}

/**
 * Sends one datagram and never throws: an unanswerable peer, a synchronous throw (a closed socket) or a
 * failed send is handed to `onError` instead. Returns whether the datagram was handed to the kernel.
 */
export function sendDatagram(socket: Socket, bytes: Uint8Array, to: DatagramPeer, onError: (message: string) => void): boolean {
  const why = unanswerableReason(to);
  if (why !== undefined) {
    onError(`not sent to ${peerText(to)}: ${why}`);
    return false;
  }
  try {
    socket.send(bytes, to.port, to.address, (error) => {
      if (error) onError(`sending to ${peerText(to)}: ${error.message}`);
    });
    return true;
  } catch (error) {
    onError(`sending to ${peerText(to)}: ${messageOf(error)}`);
    return false;
  }
}
