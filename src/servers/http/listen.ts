/** Listening sockets for an HTTP app on one or more addresses (IPv4 and IPv6 alike), and closing them. */
import { createServer, type RequestListener, type Server } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
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
}

function listenOne(server: Server, bind: HttpBind): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
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
      const port = await listenOne(server, { address: bind.address, port: bind.port === 0 && sharedPort !== undefined ? sharedPort : bind.port });
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
