/**
 * Bounds on what one HTTP listener gives away before a request is even read: open connections in all and
 * per client address, and how long a client may take to send its request. Without them one host opening
 * sockets and trickling header bytes (slowloris) holds file descriptors and memory for Node's defaults of
 * 60 s per header and 300 s per request, and no limit on connections.
 *
 * Refused connections are closed at once and summed into one report per interval, never one event each.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface ConnectionLimits {
  /** Open connections per listening address. */
  readonly maxConnections: number;
  /** Open connections from one client address (a machine downloads over one or two). */
  readonly maxConnectionsPerAddress: number;
  /** From connecting (or the previous response) to the end of the request's headers. */
  readonly headersTimeoutMs: number;
  /** To receive a whole request; our requests have no body, so this only ends a trickle. */
  readonly requestTimeoutMs: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  maxConnections: 1024,
  maxConnectionsPerAddress: 64,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
};

export interface RefusedConnections {
  /** Refused because the listener had `maxConnections` open, every one of them busy with a request. */
  readonly full: number;
  /** Closed to make room: connections that had waited longest without a request in progress. */
  readonly evicted: number;
  /** Refused because their address had `maxConnectionsPerAddress` open, by address. */
  readonly perAddress: ReadonlyMap<string, number>;
}

/** How often refusals are summed into one report. */
export const REFUSAL_REPORT_MS = 5000;

/**
 * Applies the limits to `server`; `onRefused` gets one sum per interval in which any connection was refused.
 *
 * The connection cap is kept here rather than by Node's `maxConnections`, which refuses every newcomer once
 * full: a flood of connections that never finish their headers (from more addresses than the per-address cap
 * can stop) would then shut out every real client for as long as it lasts. Instead a newcomer past the cap
 * closes the connection that has waited longest without a request in progress (still sending headers, or idle
 * between keep-alive requests); only when every connection is busy serving a request is the newcomer refused.
 */
export function limitConnections(server: Server, limits: ConnectionLimits, onRefused: (refused: RefusedConnections) => void): void {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  const open = new Map<string, number>();
  /** Open connections without a request in progress, oldest first (a Map keeps insertion order). */
  const waiting = new Map<Socket, true>();
  const counted = new Set<Socket>();
  let full = 0;
  let evicted = 0;
  let perAddress = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;

  const report = (): void => {
    timer = undefined;
    const refused = { full, evicted, perAddress };
    full = 0;
    evicted = 0;
    perAddress = new Map();
    if (refused.full > 0 || refused.evicted > 0 || refused.perAddress.size > 0) onRefused(refused);
  };
  const schedule = (): void => {
    if (timer) return;
    timer = setTimeout(report, REFUSAL_REPORT_MS);
    timer.unref();
  };
  server.on('close', () => {
    if (timer) clearTimeout(timer);
    report();
  });

  /** Takes a connection out of the counts once, whether it closed or was closed to make room. */
  const forget = (socket: Socket, address: string): void => {
    waiting.delete(socket);
    if (!counted.delete(socket)) return;
    const left = (open.get(address) ?? 1) - 1;
    if (left <= 0) open.delete(address);
    else open.set(address, left);
  };

  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '?';
    if ((open.get(address) ?? 0) >= limits.maxConnectionsPerAddress) {
      // The report names at most 64 addresses: a refused socket is never tracked, so this map is all that grows.
      if (perAddress.size < 64 || perAddress.has(address)) perAddress.set(address, (perAddress.get(address) ?? 0) + 1);
      schedule();
      socket.destroy();
      return;
    }
    if (counted.size >= limits.maxConnections) {
      const oldest = waiting.keys().next();
      if (oldest.done) {
        full += 1;
        schedule();
        socket.destroy();
        return;
      }
      evicted += 1;
      schedule();
      forget(oldest.value, oldest.value.remoteAddress ?? '?');
      oldest.value.destroy();
    }
    counted.add(socket);
    open.set(address, (open.get(address) ?? 0) + 1);
    waiting.set(socket, true);
    socket.once('close', () => forget(socket, address));
  });

  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const socket = request.socket;
    if (!counted.has(socket)) return;
    waiting.delete(socket);
    // Between keep-alive requests it waits again, now the newest.
    response.once('close', () => {
      if (counted.has(socket) && !socket.destroyed) waiting.set(socket, true);
    });
  });
}

/** `HTTP connections refused: 3 from 10.0.0.9, which had 64 open (per address)` and the like. */
export function refusedText(refused: RefusedConnections, limits: ConnectionLimits): string {
  const parts: string[] = [];
  if (refused.evicted > 0) parts.push(`${refused.evicted} waiting without a request closed to make room (${limits.maxConnections} open on the listener)`);
  if (refused.full > 0) parts.push(`${refused.full} new, with ${limits.maxConnections} open on the listener all serving requests (maxConnections)`);
  for (const [address, count] of refused.perAddress) parts.push(`${count} from ${address}, which had ${limits.maxConnectionsPerAddress} open (per address)`);
  return `HTTP connections refused: ${parts.join('; ')}`;
}
