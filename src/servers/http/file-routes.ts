/**
 * Every HTTP path that is a file: boot files from confined directories and named package files, upstream
 * files through the cache (`/upstream/<id>/<name>`), and files inside ISO images (`/iso/...`). GET and HEAD
 * only; a body is sent with sendfile(2) where it can be and reported by a TransferMeter.
 */
import { realpath } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Emit } from '../events.js';
import { openConfined, openInRoot, type ConfinedFile, type OpenedFile } from '../files/confined-open.js';
import { parseRange } from './conditional.js';
import { refuse, type Exchange } from './exchange.js';
import { contentTypeFor, fileBody, sendFile, streamBody } from './file-response.js';
import { header } from './plain-http.js';
import { decodeRequestPath, prefixSegments, stripPrefix } from './request-path.js';
import { sendSlice, type SliceAnswer } from './slice-body.js';
import { TransferMeter } from './transfer-meter.js';
import type { Download, UpstreamCache } from './upstream-cache.js';

export interface FileRoutesOptions {
  readonly emit: Emit;
  readonly progressIntervalMs: number;
  readonly roots: ReadonlyArray<{ readonly prefix: string; readonly dir: string }>;
  readonly namedFiles?: () => ReadonlyMap<string, ConfinedFile>;
  /** The cache and how `/upstream/<id>` resolves; none: no upstream files. */
  readonly upstream?: { readonly cache: UpstreamCache; readonly lookup: (id: string) => string | undefined };
  readonly isoFiles?: (rest: readonly string[]) => Promise<SliceAnswer>;
  readonly zeroCopy: boolean;
}

export type FileRoute = (req: IncomingMessage, res: ServerResponse, exchange: Exchange) => Promise<void>;

const READ_METHODS = 'GET, HEAD';

export function fileRoutes(options: FileRoutesOptions): FileRoute {
  const { emit, progressIntervalMs, zeroCopy } = options;
  const roots = options.roots
    .map((root) => ({ prefix: prefixSegments(root.prefix), dir: root.dir }))
    .sort((a, b) => b.prefix.length - a.prefix.length);

  const meterFor = (req: IncomingMessage, exchange: Exchange, file: string, span: { start: number; length?: number }): TransferMeter =>
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
  const serveOpened = async (req: IncomingMessage, res: ServerResponse, exchange: Exchange, opened: Extract<OpenedFile, { kind: 'file' }>, file: string, contentType?: string): Promise<void> => {
    try {
      const outcome = sendFile(
        req,
        res,
        { size: opened.stats.size, mtimeMs: opened.stats.mtimeMs, name: file, ...(contentType && { contentType }) },
        (span) => fileBody(res, opened.handle, span, meterFor(req, exchange, file, span), zeroCopy),
      );
      if (outcome.reason) exchange.reason = outcome.reason;
      await outcome.streaming;
    } finally {
      await opened.handle.close().catch(() => undefined);
    }
  };

  const serveOpenResult = async (req: IncomingMessage, res: ServerResponse, exchange: Exchange, opened: OpenedFile, file: string): Promise<boolean> => {
    if (opened.kind === 'missing' || opened.kind === 'directory') return false;
    if (opened.kind === 'refused') {
      refuse(res, exchange, 403, `refused: ${opened.reason}`);
      return true;
    }
    await serveOpened(req, res, exchange, opened, file);
    return true;
  };

  const serveDownloading = async (req: IncomingMessage, res: ServerResponse, exchange: Exchange, download: Download, file: string): Promise<void> => {
    const size = download.size;
    const range = size !== undefined && req.method === 'GET' ? parseRange(header(req, 'range'), size) : ({ kind: 'none' } as const);
    if (range.kind === 'unsatisfiable') {
      res.setHeader('Content-Range', `bytes */${size}`);
      refuse(res, exchange, 416, `range not satisfiable: ${range.reason}`);
      return;
    }
    const start = range.kind === 'single' ? range.start : 0;
    const end = range.kind === 'single' ? range.end : size !== undefined ? size - 1 : undefined;
    res.statusCode = range.kind === 'single' ? 206 : 200;
    res.setHeader('Content-Type', download.contentType ?? contentTypeFor(file));
    res.setHeader('Accept-Ranges', size !== undefined ? 'bytes' : 'none');
    if (end !== undefined) res.setHeader('Content-Length', String(end - start + 1));
    if (range.kind === 'single') res.setHeader('Content-Range', `bytes ${start}-${end}/${size}`);
    if (req.method === 'HEAD' || end === start - 1) {
      res.end();
      return;
    }
    const meter = meterFor(req, exchange, file, { start, ...(end !== undefined && { length: end - start + 1 }) });
    await streamBody(download.read(start, end), res, meter);
  };

  const serveUpstream = async (req: IncomingMessage, res: ServerResponse, exchange: Exchange, rest: readonly string[]): Promise<void> => {
    exchange.route = 'upstream';
    const [id, ...name] = rest;
    const origin = id !== undefined && name.length > 0 ? options.upstream?.lookup(id) : undefined;
    if (!options.upstream || origin === undefined) return refuse(res, exchange, 404, 'no such upstream source');
    let target: URL;
    try {
      target = origin.endsWith('/') ? new URL(name.map(encodeURIComponent).join('/'), origin) : new URL(origin);
    } catch {
      return refuse(res, exchange, 502, `upstream source ${id} has an invalid URL`);
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') return refuse(res, exchange, 502, `upstream source ${id} is not http(s)`);
    const file = `/upstream/${rest.join('/')}`;
    const source = await options.upstream.cache.open(target.href);
    if (source.kind === 'failed') return refuse(res, exchange, source.status, source.message);
    // Until the body is sent the file is being read: eviction passes it by.
    try {
      if (source.kind === 'downloading') await serveDownloading(req, res, exchange, source.download, file);
      else await serveOpened(req, res, exchange, source.opened, file, source.contentType);
    } finally {
      source.release();
    }
  };

  const serveIso = async (req: IncomingMessage, res: ServerResponse, exchange: Exchange, rest: readonly string[]): Promise<void> => {
    exchange.route = 'iso';
    const file = `/iso/${rest.join('/')}`;
    const sent = await sendSlice(req, res, await options.isoFiles!(rest), (span) => meterFor(req, exchange, file, span), zeroCopy);
    if ('status' in sent) return refuse(res, exchange, sent.status, sent.reason);
    if (sent.reason) exchange.reason = sent.reason;
  };

  return async (req, res, exchange) => {
    exchange.route = 'file';
    const decoded = decodeRequestPath(exchange.rawPath);
    if (decoded.kind === 'invalid') return refuse(res, exchange, 400, `bad path: ${decoded.reason}`);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', READ_METHODS);
      return refuse(res, exchange, 405, `${req.method} is not served here`);
    }
    const segments = decoded.segments;
    if (segments[0] === 'upstream') return serveUpstream(req, res, exchange, segments.slice(1));
    if (segments[0] === 'iso' && options.isoFiles) return serveIso(req, res, exchange, segments.slice(1));

    const named = segments.length === 1 ? options.namedFiles?.().get(segments[0]!) : undefined;
    if (named !== undefined) {
      exchange.route = 'named-file';
      if (await serveOpenResult(req, res, exchange, await openConfined(named), `/${segments[0]}`)) return;
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
      if (await serveOpenResult(req, res, exchange, await openInRoot(rootReal, rest), `/${segments.join('/')}`)) return;
    }
    refuse(res, exchange, 404, 'not found');
  };
}
