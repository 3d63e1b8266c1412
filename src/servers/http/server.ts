/**
 * The HTTP boot server (express 5): the constant `/boot.ipxe`, each machine's `/ipxe` script (rendered by
 * the boot core, injected as a function), the `/booted` and `/done` beacons, boot files from confined
 * directories and named package files, and upstream files cached on first use. Every request ends as one
 * `http.request` event; downloads also report transfer.* events keyed by MAC.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { realpath } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { parseMac, type Mac } from '../../protocol/mac.js';
import type { Emit, HttpRoute } from '../events.js';
import { hostPort, isSafeHostHeader, normalizeIp, urlAuthority } from './addresses.js';
import { parseScriptQuery, renderBootScript, type ScriptRequest } from './boot-script.js';
import { conflictReason, identifyRequester, macOfRequester, type NetworkView, type Requester } from './requester.js';
import { parseRange } from './conditional.js';
import { refusedText, type ConnectionLimits } from './connection-limits.js';
import { openConfined, openInRoot, type ConfinedFile, type OpenedFile } from '../files/confined-open.js';
import { contentTypeFor, fileBody, sendFile, streamBody } from './file-response.js';
import { closeAll, listenAll, type HttpBind } from './listen.js';
import { TransferMeter, DEFAULT_PROGRESS_INTERVAL_MS } from './transfer-meter.js';
import { decodeRequestPath, prefixSegments, stripPrefix } from './request-path.js';
import { sendSlice, type SliceAnswer } from './slice-body.js';
import { UpstreamCache, type Download, type UpstreamCacheOptions } from './upstream-cache.js';

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

/** Per-request facts the access-log event needs, filled in by whichever handler answers. */
interface Exchange {
  readonly startedAt: number;
  readonly ip: string;
  readonly rawPath: string;
  readonly query: URLSearchParams;
  route: HttpRoute;
  /** Which machine the request speaks for, by the network's word (requester.ts). */
  requester: Requester;
  /** What its events are counted to. */
  mac?: Mac;
  bytes?: number;
  /** A body download's meter: its count is the bytes the client got, even when it left halfway. */
  meter?: TransferMeter;
  reason?: string;
}

const MAX_LOGGED_PATH = 256;
/** Unknown addresses whose script fetch a later beacon can be matched with. */
const SCRIPTS_REMEMBERED = 4096;
const READ_METHODS = 'GET, HEAD';

function exchangeOf(res: Response): Exchange {
  return res.locals['exchange'] as Exchange;
}

function refuse(res: Response, status: number, reason: string): void {
  const exchange = exchangeOf(res);
  exchange.reason = reason;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.status(status).type('text/plain').set('Cache-Control', 'no-store').send(`${reason}\n`);
}

function textReply(res: Response, body: string): void {
  exchangeOf(res).bytes = Buffer.byteLength(body);
  res.status(200).type('text/plain').set('Cache-Control', 'no-store').send(body);
}

/** The base URL the client reached us at: its Host header when it is a plain host, else the socket's local end. */
export function baseUrlFor(hostHeader: string | undefined, localAddress: string | undefined, localPort: number | undefined): string {
  if (hostHeader && isSafeHostHeader(hostHeader)) return `http://${hostHeader}`;
  return `http://${urlAuthority(normalizeIp(localAddress) || '127.0.0.1', localPort ?? 80)}`;
}

export async function createHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const { emit } = options;
  const binds: readonly HttpBind[] = Array.isArray(options.bind) ? options.bind : [options.bind as HttpBind];
  const progressIntervalMs = options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS;
  const roots = options.roots
    .map((root) => ({ prefix: prefixSegments(root.prefix), dir: root.dir }))
    .sort((a, b) => b.prefix.length - a.prefix.length);
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

  const meterFor = (req: Request, exchange: Exchange, file: string, span: { start: number; length?: number }): TransferMeter =>
    (exchange.meter = new TransferMeter(
      emit,
      {
        file,
        ip: exchange.ip,
        peer: `${exchange.ip}:${req.socket.remotePort ?? 0}`,
        ...(exchange.mac && { mac: exchange.mac }),
        ...(span.length !== undefined && { size: span.length }),
        offset: span.start,
      },
      progressIntervalMs,
    ));

  /** Sends an opened file and closes it; `file` is the name shown in events. */
  const serveOpened = async (req: Request, res: Response, opened: Extract<OpenedFile, { kind: 'file' }>, file: string, contentType?: string): Promise<void> => {
    const exchange = exchangeOf(res);
    try {
      const outcome = sendFile(
        req,
        res,
        { size: opened.stats.size, mtimeMs: opened.stats.mtimeMs, name: file, ...(contentType && { contentType }) },
        (span) => fileBody(res, opened.handle, span, meterFor(req, exchange, file, span), options.zeroCopy ?? true),
      );
      if (outcome.reason) exchange.reason = outcome.reason;
      await outcome.streaming;
    } finally {
      await opened.handle.close().catch(() => undefined);
    }
  };

  const serveOpenResult = async (req: Request, res: Response, opened: OpenedFile, file: string, contentType?: string): Promise<boolean> => {
    if (opened.kind === 'missing' || opened.kind === 'directory') return false;
    if (opened.kind === 'refused') {
      refuse(res, 403, `refused: ${opened.reason}`);
      return true;
    }
    await serveOpened(req, res, opened, file, contentType);
    return true;
  };

  const serveDownloading = async (req: Request, res: Response, download: Download, file: string): Promise<void> => {
    const exchange = exchangeOf(res);
    const size = download.size;
    const range = size !== undefined && req.method === 'GET' ? parseRange(req.get('range'), size) : ({ kind: 'none' } as const);
    if (range.kind === 'unsatisfiable') {
      res.set('Content-Range', `bytes */${size}`);
      refuse(res, 416, `range not satisfiable: ${range.reason}`);
      return;
    }
    const start = range.kind === 'single' ? range.start : 0;
    const end = range.kind === 'single' ? range.end : size !== undefined ? size - 1 : undefined;
    res.status(range.kind === 'single' ? 206 : 200);
    res.set('Content-Type', download.contentType ?? contentTypeFor(file));
    res.set('Accept-Ranges', size !== undefined ? 'bytes' : 'none');
    if (end !== undefined) res.set('Content-Length', String(end - start + 1));
    if (range.kind === 'single') res.set('Content-Range', `bytes ${start}-${end}/${size}`);
    if (req.method === 'HEAD' || end === start - 1) {
      res.end();
      return;
    }
    const meter = meterFor(req, exchange, file, { start, ...(end !== undefined && { length: end - start + 1 }) });
    await streamBody(download.read(start, end), res, meter);
  };

  const serveUpstream = async (req: Request, res: Response, rest: readonly string[]): Promise<void> => {
    const exchange = exchangeOf(res);
    exchange.route = 'upstream';
    const [id, ...name] = rest;
    const origin = id !== undefined && name.length > 0 ? options.upstream?.lookup(id) : undefined;
    if (!cache || origin === undefined) return refuse(res, 404, 'no such upstream source');
    let target: URL;
    try {
      target = origin.endsWith('/') ? new URL(name.map(encodeURIComponent).join('/'), origin) : new URL(origin);
    } catch {
      return refuse(res, 502, `upstream source ${id} has an invalid URL`);
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') return refuse(res, 502, `upstream source ${id} is not http(s)`);
    const file = `/upstream/${rest.join('/')}`;
    const source = await cache.open(target.href);
    if (source.kind === 'failed') return refuse(res, source.status, source.message);
    // Until the body is sent the file is being read: eviction passes it by.
    try {
      if (source.kind === 'downloading') await serveDownloading(req, res, source.download, file);
      else await serveOpened(req, res, source.opened, file, source.contentType);
    } finally {
      source.release();
    }
  };

  const serveIso = async (req: Request, res: Response, rest: readonly string[]): Promise<void> => {
    const exchange = exchangeOf(res);
    exchange.route = 'iso';
    const file = `/iso/${rest.join('/')}`;
    const sent = await sendSlice(req, res, await options.isoFiles!(rest), (span) => meterFor(req, exchange, file, span), options.zeroCopy ?? true);
    if ('status' in sent) return refuse(res, sent.status, sent.reason);
    if (sent.reason) exchange.reason = sent.reason;
  };

  const serveFiles = async (req: Request, res: Response): Promise<void> => {
    const exchange = exchangeOf(res);
    exchange.route = 'file';
    const decoded = decodeRequestPath(exchange.rawPath);
    if (decoded.kind === 'invalid') return refuse(res, 400, `bad path: ${decoded.reason}`);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.set('Allow', READ_METHODS);
      return refuse(res, 405, `${req.method} is not served here`);
    }
    const segments = decoded.segments;
    if (segments[0] === 'upstream') return serveUpstream(req, res, segments.slice(1));
    if (segments[0] === 'iso' && options.isoFiles) return serveIso(req, res, segments.slice(1));

    const named = segments.length === 1 ? options.namedFiles?.().get(segments[0]!) : undefined;
    if (named !== undefined) {
      exchange.route = 'named-file';
      if (await serveOpenResult(req, res, await openConfined(named), `/${segments[0]}`)) return;
    }
    for (const root of roots) {
      const rest = stripPrefix(segments, root.prefix);
      if (rest === null || rest.length === 0) continue;
      let rootReal: string;
      try {
        rootReal = await realpath(root.dir);
      } catch {
        continue;
      }
      exchange.route = 'file';
      if (await serveOpenResult(req, res, await openInRoot(rootReal, rest), `/${segments.join('/')}`)) return;
    }
    refuse(res, 404, 'not found');
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', false);

  app.use((req: Request, res: Response, next: NextFunction) => {
    const url = req.originalUrl ?? req.url;
    const mark = url.indexOf('?');
    const exchange: Exchange = {
      startedAt: performance.now(),
      ip: normalizeIp(req.socket.remoteAddress),
      rawPath: mark === -1 ? url : url.slice(0, mark),
      query: new URLSearchParams(mark === -1 ? '' : url.slice(mark + 1)),
      route: 'unknown',
      requester: { kind: 'unknown' },
    };
    exchange.requester = identifyRequester(exchange.query.get('mac'), exchange.ip, network);
    exchange.mac = macOfRequester(exchange.requester);
    res.locals['exchange'] = exchange;
    // After the transfer's own done/error (the stream pipeline settles on this same close).
    res.once('close', () => setImmediate(() => {
      const userAgent = req.get('user-agent');
      const bytes = exchange.meter?.bytes ?? exchange.bytes;
      emit({
        kind: 'http.request',
        time: Date.now(),
        source: 'http',
        ip: exchange.ip,
        ...(exchange.mac && { mac: exchange.mac }),
        method: req.method,
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
    if (!exchange.rawPath.startsWith('/')) return refuse(res, 400, 'request target must be a path');
    next();
  });

  app.get('/boot.ipxe', (req: Request, res: Response) => {
    exchangeOf(res).route = 'boot-script';
    textReply(res, renderBootScript(baseUrlFor(req.get('host'), req.socket.localAddress, req.socket.localPort)));
  });

  app.get('/ipxe', async (req: Request, res: Response) => {
    const exchange = exchangeOf(res);
    exchange.route = 'script';
    const requester = exchange.requester;
    if (requester.kind === 'invalid') return refuse(res, 400, requester.reason);
    if (requester.kind === 'unknown') return refuse(res, 400, `no mac= in the query and no MAC known for ${exchange.ip}; chain /boot.ipxe`);
    if (requester.kind === 'conflict') return refuse(res, 403, conflictReason(exchange.ip, requester));
    const parsed = parseScriptQuery(exchange.query, exchange.ip, requester.mac);
    if (parsed.kind === 'invalid') return refuse(res, 400, parsed.reason);
    if (requester.kind === 'claimed') rememberScript(exchange.ip, requester.mac);
    if (parsed.unused) exchange.reason = parsed.unused;
    let result: RenderResult;
    try {
      result = await options.renderIpxeScript(parsed.request);
    } catch (error) {
      return refuse(res, 500, `cannot render the script: ${error instanceof Error ? error.message : String(error)}`);
    }
    if ('script' in result) {
      if (result.note) exchange.reason = exchange.reason ? `${exchange.reason}; ${result.note}` : result.note;
      return textReply(res, result.script);
    }
    const status = Number.isInteger(result.status) && result.status >= 400 && result.status <= 599 ? result.status : 500;
    refuse(res, status, result.message);
  });

  const beacon = (kind: Beacon) => (req: Request, res: Response) => {
    const exchange = exchangeOf(res);
    exchange.route = 'beacon';
    const requester = exchange.requester;
    if (requester.kind === 'invalid') return refuse(res, 400, requester.reason);
    if (requester.kind === 'unknown') return refuse(res, 400, `no mac= and no MAC known for ${exchange.ip}`);
    if (requester.kind === 'conflict') return refuse(res, 403, conflictReason(exchange.ip, requester));
    // A beacon changes what a machine boots next (boot-once): from an address the network does not know, it
    // counts only for the machine whose script that address fetched (the script is what sends it).
    if (requester.kind === 'claimed' && scriptsServed.get(exchange.ip) !== requester.mac) {
      exchange.mac = undefined;
      return refuse(res, 403, `${exchange.ip} is not known as ${requester.mac}: no DHCP lease, no neighbour entry, and it fetched no script for it`);
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
    textReply(res, `#!ipxe\n# pxedeck: ${kind} noted for ${mac}\n`);
  };
  for (const kind of ['booted', 'done'] as const) app.route(`/${kind}`).get(beacon(kind)).post(beacon(kind));

  app.use((req: Request, res: Response) => serveFiles(req, res));

  // Express 5 routes rejected promises here; whatever escaped a handler becomes a 500, never a crash.
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    refuse(res, 500, `internal error: ${error instanceof Error ? error.message : String(error)}`);
  });

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
    });
  } catch (error) {
    await ownCache?.close();
    emit({ kind: 'server.error', time: Date.now(), source: 'http', server: 'http', message: `cannot listen: ${error instanceof Error ? error.message : String(error)}` });
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
