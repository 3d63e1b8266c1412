/** Listening sockets for an HTTP app on one or more addresses (IPv4 and IPv6 alike), and closing them. */
import { createServer, type RequestListener, type Server } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { SocketOpenError, socketOpenError } from '../net/socket-open-error.js';
import { DEFAULT_CONNECTION_LIMITS, limitConnections, type ConnectionLimits, type RefusedConnections } from './connection-limits.js';

export interface HttpBind {
  readonly address: string;
  /** 0 picks a free port; with several binds, the later ones reuse the port the first one got. */
  readonly port: number;
}

export interface Listening {
  readonly servers: readonly Server[];
  readonly addresses: readonly HttpBind[];
}

export interface ListenOptions {
  /** Socket inactivity (no bytes either way, e.g. a client that stopped reading) after which it is closed. */
  readonly idleTimeoutMs: number;
  /** Default DEFAULT_CONNECTION_LIMITS. */
  readonly limits?: ConnectionLimits;
  /** A sum of refused connections, at most one per few seconds per listener. */
  readonly onRefused?: (refused: RefusedConnections, limits: ConnectionLimits) => void;
  readonly configure?: (server: Server) => void;
  /** What moves the port, for the message when it is taken: a flag or a setting. */
  readonly portSetting?: string;
}

/** The text of a failed listen's `server.error` event: an operator's error says it all, anything else gets a prefix. */
export function listenFailureText(error: unknown): string {
  if (error instanceof SocketOpenError) return error.message;
  return `cannot listen: ${error instanceof Error ? error.message : String(error)}`;
}

/** Listen errors the operator can do something about: told as such (who holds the port, the flag to change). */
const OPERATOR_LISTEN_ERRORS = new Set(['EADDRINUSE', 'EACCES', 'EPERM', 'EADDRNOTAVAIL']);

function listenOne(server: Server, bind: HttpBind, portSetting: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      const code = error.code;
      if (code === undefined || !OPERATOR_LISTEN_ERRORS.has(code)) return reject(error);
      const family = isIP(bind.address.split('%')[0]!) === 6 ? 6 : 4;
      const context = { syscall: 'listen', address: bind.address, port: bind.port, family, protocol: 'tcp', ...(portSetting && { portSetting }) } as const;
      void socketOpenError(code, context).then(reject);
    };
    server.once('error', onError);
    // v6-only, so `::` and `0.0.0.0` can both be bound without one taking the other's port.
    server.listen({ host: bind.address, port: bind.port, ipv6Only: isIP(bind.address.split('%')[0]!) === 6, exclusive: true }, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function listenAll(binds: readonly HttpBind[], app: RequestListener, options: ListenOptions): Promise<Listening> {
  if (binds.length === 0) throw new Error('no address to listen on');
  const servers: Server[] = [];
  const addresses: HttpBind[] = [];
  try {
    let sharedPort: number | undefined;
    for (const bind of binds) {
      // Header and request timeouts are checked on this interval (Node's default, 30 s, would stretch them).
      const server = createServer({ keepAlive: true, connectionsCheckingInterval: 1000 }, app);
      server.timeout = options.idleTimeoutMs;
      const limits = options.limits ?? DEFAULT_CONNECTION_LIMITS;
      limitConnections(server, limits, (refused) => options.onRefused?.(refused, limits));
      options.configure?.(server);
      servers.push(server);
      const port = await listenOne(server, { address: bind.address, port: bind.port === 0 && sharedPort !== undefined ? sharedPort : bind.port }, options.portSetting);
      sharedPort ??= port;
      addresses.push({ address: bind.address, port });
    }
  } catch (error) {
    await closeAll(servers);
    throw error;
  }
  return { servers, addresses };
}

/** Stops accepting, drops every open connection (downloads included), and waits for the sockets to close. */
export async function closeAll(servers: readonly Server[]): Promise<void> {
  await Promise.all(
    servers.map(
      (server) =>
        new Promise<void>((resolve) => {
          if (!server.listening) return resolve();
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    ),
  );
}
