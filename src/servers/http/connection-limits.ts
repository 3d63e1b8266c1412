/**
 * Bounds on what one HTTP listener gives away before a request is even read: open connections in all and
 * per client address, and how long a client may take to send its request. Without them one host opening
 * sockets and trickling header bytes (slowloris) holds file descriptors and memory for Node's defaults of
 * 60 s per header and 300 s per request, and no limit on connections.
 *
 * Refused connections are closed at once and summed into one report per interval, never one event each.
 */
import type { Server } from 'node:http';
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
  /** Refused because the listener had `maxConnections` open. */
  readonly full: number;
  /** Refused because their address had `maxConnectionsPerAddress` open, by address. */
  readonly perAddress: ReadonlyMap<string, number>;
}

/** How often refusals are summed into one report. */
export const REFUSAL_REPORT_MS = 5000;

/** Applies the limits to `server`; `onRefused` gets one sum per interval in which any connection was refused. */
export function limitConnections(server: Server, limits: ConnectionLimits, onRefused: (refused: RefusedConnections) => void): void {
  server.maxConnections = limits.maxConnections;
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  const open = new Map<string, number>();
  let full = 0;
  let perAddress = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;

  const report = (): void => {
    timer = undefined;
    const refused = { full, perAddress };
    full = 0;
    perAddress = new Map();
    if (refused.full > 0 || refused.perAddress.size > 0) onRefused(refused);
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

  // Node closes connections beyond maxConnections itself and says so with 'drop'.
  server.on('drop', () => {
    full += 1;
    schedule();
  });
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '?';
    const count = (open.get(address) ?? 0) + 1;
    if (count > limits.maxConnectionsPerAddress) {
      // Only the count of addresses already tracked grows: a refused socket is never added to `open`.
      if (perAddress.size < 64 || perAddress.has(address)) perAddress.set(address, (perAddress.get(address) ?? 0) + 1);
      schedule();
      socket.destroy();
      return;
    }
    open.set(address, count);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    });
  });
}

/** `12 connections refused: 1024 open on this listener (maxConnections); 10.0.0.5 had 64 open (…)`. */
export function refusedText(refused: RefusedConnections, limits: ConnectionLimits): string {
  const parts: string[] = [];
  if (refused.full > 0) parts.push(`${refused.full} with ${limits.maxConnections} open on the listener (maxConnections)`);
  for (const [address, count] of refused.perAddress) parts.push(`${count} from ${address}, which had ${limits.maxConnectionsPerAddress} open (per address)`);
  return `HTTP connections refused: ${parts.join('; ')}`;
}
