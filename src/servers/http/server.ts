/**
 * The HTTP boot server (node:http): the constant `/boot.ipxe`, each machine's `/ipxe` script (rendered by
 * the boot core, injected as a function), the `/booted` and `/done` beacons, and every other path a file
 * (file-routes.ts: boot files, package files, upstream files cached on first use, files inside ISOs).
 * Every request ends as one `http.request` event; downloads also report transfer.* events keyed by MAC.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Mac } from '../../protocol/mac.js';
import type { Emit } from '../events.js';
import type { ConfinedFile } from '../files/confined-open.js';
import { hostPort, isSafeHostHeader, normalizeIp, urlAuthority } from './addresses.js';
import { parseScriptQuery, renderBootScript, type ScriptRequest } from './boot-script.js';
import { refusedText, type ConnectionLimits } from './connection-limits.js';
import { refuse, textReply, type Exchange } from './exchange.js';
import { fileRoutes } from './file-routes.js';
import { closeAll, listenAll, listenFailureText, type HttpBind } from './listen.js';
import { header, splitTarget } from './plain-http.js';
import { conflictReason, identifyRequester, macOfRequester, type NetworkView } from './requester.js';
import type { SliceAnswer } from './slice-body.js';
import { DEFAULT_PROGRESS_INTERVAL_MS } from './transfer-meter.js';
import { UpstreamCache, type UpstreamCacheOptions } from './upstream-cache.js';

export type { HttpBind } from './listen.js';
export type { ScriptRequest } from './boot-script.js';

/** Where the upstream cache lives and how its sources resolve; the rest tunes it (see UpstreamCacheOptions). */
export type UpstreamOptions = Omit<UpstreamCacheOptions, 'emit' | 'progressIntervalMs'> & {
  readonly lookup: (id: string) => string | undefined;
  /** A cache its owner shares with other servers (TFTP serves upstream kernels to the signed GRUB); not closed here. */
  readonly shared?: UpstreamCache;
};

/** `note`: told in the request's event (a part of the request the boot core left unused). */
export type RenderResult = { readonly script: string; readonly note?: string } | { readonly status: number; readonly message: string };
export type Beacon = 'booted' | 'done';

export interface HttpServerOptions {
  readonly bind: HttpBind | readonly HttpBind[];
  readonly emit: Emit;
  readonly signal?: AbortSignal;
  /** Renders the machine's iPXE script from what `/boot.ipxe` chained with. */
  readonly renderIpxeScript: (request: ScriptRequest) => Promise<RenderResult>;
  /** Directories served under URL prefixes, e.g. `{ prefix: '/files', dir }`; the longest matching prefix wins. */
  readonly roots: ReadonlyArray<{ readonly prefix: string; readonly dir: string }>;
  /** Single files at the URL root by name (iPXE EFI binaries for UEFI HTTP Boot), each confined to its own root. */
  readonly namedFiles?: () => ReadonlyMap<string, ConfinedFile>;
  /**
   * Upstream sources, served at `/upstream/<id>/<name>`. `lookup(id)` gives the origin URL: a file URL
   * (then `<name>` is only the name the client sees, which iPXE uses as the image name), or a URL ending
   * in `/` (then `<name>` is the path under it).
   */
  readonly upstream?: UpstreamOptions;
  /** `/iso/<rest>`: ISO images and the files inside them, as byte ranges of the image (src/servers/iso). */
  readonly isoFiles?: (rest: readonly string[]) => Promise<SliceAnswer>;
  /** What the network says an address is (registry, neighbour table): a request speaks only for that machine (requester.ts). */
  readonly macForIp?: (ip: string) => Mac | undefined;
  /** The neighbour table alone, asked when a request's MAC disagrees with `macForIp` (an address reused since). */
  readonly liveMacForIp?: (ip: string) => Mac | undefined;
  readonly onBeacon?: (beacon: Beacon, mac: Mac, ip: string) => void;
  /** Minimum time between progress events of one download. Default 250 ms. */
  readonly progressIntervalMs?: number;
  /** A connection with no traffic either way for this long is closed. Default 120 s. */
  readonly idleTimeoutMs?: number;
  /** Connections and request timeouts; default DEFAULT_CONNECTION_LIMITS (connection-limits.ts). */
  readonly connectionLimits?: ConnectionLimits;
  /** sendfile(2) for file bodies where the platform allows (Linux). Default true; false streams through buffers. */
  readonly zeroCopy?: boolean;
}

export interface HttpServer {
  /** The port of the first bind (all binds share it when they asked for port 0). */
  readonly port: number;
  readonly addresses: readonly HttpBind[];
  close(): Promise<void>;
}

const MAX_LOGGED_PATH = 256;
/** Unknown addresses whose script fetch a later beacon can be matched with. */
const SCRIPTS_REMEMBERED = 4096;

/** The base URL the client reached us at: its Host header when it is a plain host, else the socket's local end. */
export function baseUrlFor(hostHeader: string | undefined, localAddress: string | undefined, localPort: number | undefined): string {
  if (hostHeader && isSafeHostHeader(hostHeader)) return `http://${hostHeader}`;
  return `http://${urlAuthority(normalizeIp(localAddress) || '127.0.0.1', localPort ?? 80)}`;
}

export async function createHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const { emit } = options;
  const binds: readonly HttpBind[] = Array.isArray(options.bind) ? options.bind : [options.bind as HttpBind];
  const progressIntervalMs = options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS;
  const upstream = options.upstream;
  const ownCache = upstream && !upstream.shared ? new UpstreamCache({ ...upstream, emit, progressIntervalMs }) : undefined;
  const cache = upstream?.shared ?? ownCache;

  /** Addresses the network knows nothing of → the machine whose script each fetched last (bounded, oldest first out). */
  const scriptsServed = new Map<string, Mac>();
  const rememberScript = (ip: string, mac: Mac): void => {
    scriptsServed.delete(ip);
    scriptsServed.set(ip, mac);
    if (scriptsServed.size > SCRIPTS_REMEMBERED) scriptsServed.delete(scriptsServed.keys().next().value!);
  };
  const network: NetworkView = { ...(options.macForIp && { macForIp: options.macForIp }), ...(options.liveMacForIp && { liveMacForIp: options.liveMacForIp }) };

  const serveFile = fileRoutes({
    emit,
    progressIntervalMs,
    roots: options.roots,
    ...(options.namedFiles && { namedFiles: options.namedFiles }),
    ...(cache && upstream && { upstream: { cache, lookup: upstream.lookup } }),
    ...(options.isoFiles && { isoFiles: options.isoFiles }),
    zeroCopy: options.zeroCopy ?? true,
  });

  const serveBootScript = (req: IncomingMessage, res: ServerResponse, exchange: Exchange): void => {
    exchange.route = 'boot-script';
    textReply(res, exchange, renderBootScript(baseUrlFor(header(req, 'host'), req.socket.localAddress, req.socket.localPort)));
  };

  const serveScript = async (res: ServerResponse, exchange: Exchange): Promise<void> => {
    exchange.route = 'script';
    const requester = exchange.requester;
    if (requester.kind === 'invalid') return refuse(res, exchange, 400, requester.reason);
    if (requester.kind === 'unknown') return refuse(res, exchange, 400, `no mac= in the query and no MAC known for ${exchange.ip}; chain /boot.ipxe`);
    if (requester.kind === 'conflict') return refuse(res, exchange, 403, conflictReason(exchange.ip, requester));
    const parsed = parseScriptQuery(exchange.query, exchange.ip, requester.mac);
    if (parsed.kind === 'invalid') return refuse(res, exchange, 400, parsed.reason);
    if (requester.kind === 'claimed') rememberScript(exchange.ip, requester.mac);
    if (parsed.unused) exchange.reason = parsed.unused;
    let result: RenderResult;
    try {
      result = await options.renderIpxeScript(parsed.request);
    } catch (error) {
      return refuse(res, exchange, 500, `cannot render the script: ${error instanceof Error ? error.message : String(error)}`);
    }
    if ('script' in result) {
      if (result.note) exchange.reason = exchange.reason ? `${exchange.reason}; ${result.note}` : result.note;
      return textReply(res, exchange, result.script);
    }
    const status = Number.isInteger(result.status) && result.status >= 400 && result.status <= 599 ? result.status : 500;
    refuse(res, exchange, status, result.message);
  };

  const serveBeacon = (kind: Beacon, req: IncomingMessage, res: ServerResponse, exchange: Exchange): void => {
    exchange.route = 'beacon';
    const requester = exchange.requester;
    if (requester.kind === 'invalid') return refuse(res, exchange, 400, requester.reason);
    if (requester.kind === 'unknown') return refuse(res, exchange, 400, `no mac= and no MAC known for ${exchange.ip}`);
    if (requester.kind === 'conflict') return refuse(res, exchange, 403, conflictReason(exchange.ip, requester));
    // A beacon changes what a machine boots next (boot-once): from an address the network does not know, it
    // counts only for the machine whose script that address fetched (the script is what sends it).
    if (requester.kind === 'claimed' && scriptsServed.get(exchange.ip) !== requester.mac) {
      exchange.mac = undefined;
      return refuse(res, exchange, 403, `${exchange.ip} is not known as ${requester.mac}: no DHCP lease, no neighbour entry, and it fetched no script for it`);
    }
    const mac = requester.mac;
    if (req.method !== 'HEAD') {
      emit({ kind: 'boot.beacon', time: Date.now(), source: 'http', beacon: kind, mac, ip: exchange.ip });
      try {
        options.onBeacon?.(kind, mac, exchange.ip);
      } catch (error) {
        exchange.reason = `beacon handler failed: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
    textReply(res, exchange, `#!ipxe\n# pxedeck: ${kind} noted for ${mac}\n`);
  };

  const route = async (req: IncomingMessage, res: ServerResponse, exchange: Exchange): Promise<void> => {
    const reads = req.method === 'GET' || req.method === 'HEAD';
    if (exchange.rawPath === '/boot.ipxe' && reads) return serveBootScript(req, res, exchange);
    if (exchange.rawPath === '/ipxe' && reads) return serveScript(res, exchange);
    if ((exchange.rawPath === '/booted' || exchange.rawPath === '/done') && (reads || req.method === 'POST')) {
      return serveBeacon(exchange.rawPath === '/booted' ? 'booted' : 'done', req, res, exchange);
    }
    return serveFile(req, res, exchange);
  };

  const app = (req: IncomingMessage, res: ServerResponse): void => {
    const { path, query } = splitTarget(req.url);
    const ip = normalizeIp(req.socket.remoteAddress);
    const requester = identifyRequester(query.get('mac'), ip, network);
    const exchange: Exchange = { startedAt: performance.now(), ip, rawPath: path, query, route: 'unknown', requester };
    exchange.mac = macOfRequester(requester);
    // After the transfer's own done/error (the stream pipeline settles on this same close).
    res.once('close', () => setImmediate(() => {
      const userAgent = header(req, 'user-agent');
      const bytes = exchange.meter?.bytes ?? exchange.bytes;
      emit({
        kind: 'http.request',
        time: Date.now(),
        source: 'http',
        ip: exchange.ip,
        ...(exchange.mac && { mac: exchange.mac }),
        method: req.method ?? '-',
        path: exchange.rawPath.slice(0, MAX_LOGGED_PATH),
        status: res.statusCode,
        route: exchange.route,
        ...(userAgent && { userAgent: userAgent.slice(0, MAX_LOGGED_PATH) }),
        ...(bytes !== undefined && { bytes }),
        durationMs: Math.round(performance.now() - exchange.startedAt),
        ...(exchange.reason && { reason: exchange.reason }),
      });
    }));
    // Absolute-form targets (`GET http://host/x`) are for proxies; we are not one.
    if (!exchange.rawPath.startsWith('/')) return refuse(res, exchange, 400, 'request target must be a path');
    // Whatever escapes a handler becomes a 500 for this request, never a crash.
    route(req, res, exchange).catch((error: unknown) => refuse(res, exchange, 500, `internal error: ${error instanceof Error ? error.message : String(error)}`));
  };

  const configure = (server: Server): void => {
    server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
      emit({
        kind: 'http.request',
        time: Date.now(),
        source: 'http',
        ip: normalizeIp((socket as Socket).remoteAddress),
        method: '-',
        path: '-',
        status: 400,
        route: 'unknown',
        reason: `malformed request (${error.code ?? error.message})`,
      });
      // Closed once the answer is out, not half-closed: a client that never reads (slowloris) must not keep the socket.
      if (socket.writable && !(socket as { _httpMessage?: unknown })._httpMessage) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n', () => socket.destroy());
      else socket.destroy();
    });
  };

  let listening;
  try {
    listening = await listenAll(binds, app, {
      idleTimeoutMs: options.idleTimeoutMs ?? 120_000,
      ...(options.connectionLimits && { limits: options.connectionLimits }),
      onRefused: (refused, limits) => emit({ kind: 'notice', time: Date.now(), source: 'http', level: 'warning', message: refusedText(refused, limits) }),
      configure,
      portSetting: '--http-port (or httpPort in settings.json)',
    });
  } catch (error) {
    await ownCache?.close();
    emit({ kind: 'server.error', time: Date.now(), source: 'http', server: 'http', message: listenFailureText(error) });
    throw error;
  }
  for (const { address, port } of listening.addresses) {
    emit({ kind: 'server.listening', time: Date.now(), source: 'http', server: 'http', address: hostPort(address, port) });
  }

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const cacheClosed = ownCache?.close();
      await closeAll(listening.servers);
      await cacheClosed;
      emit({ kind: 'server.closed', time: Date.now(), source: 'http', server: 'http' });
    })();
    return closing;
  };
  options.signal?.addEventListener('abort', () => void close(), { once: true });
  if (options.signal?.aborted) await close();

  return { port: listening.addresses[0]!.port, addresses: listening.addresses, close };
}
