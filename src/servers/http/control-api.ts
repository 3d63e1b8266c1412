/**
 * The JSON control API for automation, on its own listener so the boot network never reaches it by
 * accident: loopback by default. Every request carries `Authorization: Bearer <token>`: on a shared
 * machine any local user can reach loopback, and assigning machines is the operator's. The token is made
 * on first start and kept 0600 in the 0700 data dir (src/runtime/control-token.ts).
 *
 * A web page in the operator's browser cannot know the token; still, on loopback the API also requires a
 * loopback Host header (DNS rebinding) and refuses requests that carry an Origin, and every POST body must
 * be application/json. A POST without a body (hold, release) needs no content type (curl -X POST).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseMac, type Mac } from '../../protocol/mac.js';
import type { Emit } from '../events.js';
import { hostPort, isLoopback, normalizeIp } from './addresses.js';
import { closeAll, listenAll, listenFailureText, type HttpBind } from './listen.js';
import { header, isJsonBody, readJsonBody, sendJson, splitTarget } from './plain-http.js';

/** One page of `GET /v1/clients`, in MAC order: `after` is the last MAC of the page before. */
export interface ClientPage {
  readonly limit: number;
  readonly after?: Mac;
}

/** Per page unless `?limit=` asks for fewer or more (up to the most). */
export const CLIENT_PAGE_DEFAULT = 100;
export const CLIENT_PAGE_MOST = 1000;

/** The largest JSON body a POST may carry. */
const BODY_LIMIT_BYTES = 64 * 1024;

/** Shorter tokens are refused (settings.json's controlToken is checked against the same bound). */
export const MIN_TOKEN_LENGTH = 16;

export interface ControlHandlers {
  listClients(page: ClientPage): unknown;
  assign(mac: Mac, body: unknown): Promise<unknown> | unknown;
  hold(mac: Mac): Promise<unknown> | unknown;
  release(mac: Mac): Promise<unknown> | unknown;
}

export interface ControlApiOptions {
  /** Default 127.0.0.1. */
  readonly bind?: string;
  readonly port: number;
  /** Every request needs `Authorization: Bearer <token>`; at least 16 characters. */
  readonly token: string;
  readonly emit: Emit;
  readonly signal?: AbortSignal;
  readonly handlers: ControlHandlers;
}

export interface ControlApi {
  readonly port: number;
  readonly address: string;
  close(): Promise<void>;
}

/** A handler error may name its HTTP status (an unknown profile is a 404, a bad body a 400). */
export class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function statusOf(error: unknown): number {
  const status = typeof error === 'object' && error !== null && 'status' in error ? Number(error.status) : NaN;
  return Number.isInteger(status) && status >= 400 && status <= 599 ? status : 500;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const presented = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
  // Hashing first gives equal lengths, so the comparison time says nothing about the token.
  return presented !== undefined && timingSafeEqual(digest(presented), digest(token));
}

function hostIsLoopback(host: string | undefined): boolean {
  if (!host) return false;
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  return isLoopback(name);
}

/** A query parameter given once; null when repeated. */
function single(query: URLSearchParams, name: string): string | undefined | null {
  const values = query.getAll(name);
  return values.length > 1 ? null : values[0];
}

function clientPage(query: URLSearchParams): ClientPage | string {
  const limitText = single(query, 'limit');
  const afterText = single(query, 'after');
  let limit = CLIENT_PAGE_DEFAULT;
  if (limitText !== undefined) {
    limit = typeof limitText === 'string' && /^\d{1,7}$/.test(limitText) ? Number(limitText) : NaN;
    if (!(limit >= 1 && limit <= CLIENT_PAGE_MOST)) return `limit must be a number from 1 to ${CLIENT_PAGE_MOST}`;
  }
  if (afterText === undefined) return { limit };
  const after = typeof afterText === 'string' ? parseMac(afterText) : null;
  if (!after) return 'after must be a MAC address (the "next" of the page before)';
  return { limit, after };
}

export async function createControlApi(options: ControlApiOptions): Promise<ControlApi> {
  const address = options.bind ?? '127.0.0.1';
  const token = options.token;
  if (typeof token !== 'string' || token.length < MIN_TOKEN_LENGTH) {
    throw new Error(`refusing to start the control API without a token of at least ${MIN_TOKEN_LENGTH} characters: anyone who can reach it could assign and release machines`);
  }
  const onLoopback = isLoopback(address);
  const { emit, handlers } = options;
  const actions: Record<string, (mac: Mac, body: unknown) => unknown> = {
    assign: (mac, body) => handlers.assign(mac, body ?? {}),
    hold: (mac) => handlers.hold(mac),
    release: (mac) => handlers.release(mac),
  };

  /** The answer to one request; its status and, for an error, the reason go into the request's event. */
  const answer = async (req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<string | undefined> => {
    const fail = (status: number, message: string): string => {
      sendJson(res, status, { error: message });
      return message;
    };
    if (onLoopback && !hostIsLoopback(header(req, 'host'))) return fail(403, 'Host must be a loopback name');
    if (onLoopback && header(req, 'origin') !== undefined) return fail(403, 'browser requests are refused');
    if (!tokenMatches(header(req, 'authorization'), token)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      return fail(401, 'missing or wrong bearer token (the token is in the data dir, file control-token)');
    }
    const length = header(req, 'content-length');
    const hasBody = (length !== undefined && length !== '0') || header(req, 'transfer-encoding') !== undefined;
    if (req.method === 'POST' && hasBody && !isJsonBody(req)) return fail(415, 'POST bodies must be application/json');
    try {
      if (path === '/v1/clients' && (req.method === 'GET' || req.method === 'HEAD')) {
        const page = clientPage(query);
        if (typeof page === 'string') return fail(400, page);
        sendJson(res, 200, await handlers.listClients(page));
        return undefined;
      }
      const route = /^\/v1\/clients\/([^/]+)\/(assign|hold|release)$/.exec(path);
      if (!route || req.method !== 'POST') return fail(404, 'no such endpoint');
      let macText = route[1]!;
      try {
        macText = decodeURIComponent(macText);
      } catch {
        // Left as sent: it is no MAC either way.
      }
      const mac = parseMac(macText);
      if (!mac) return fail(400, `"${macText.slice(0, 40)}" is not a MAC address`);
      const body = hasBody ? await readJsonBody(req, BODY_LIMIT_BYTES) : undefined;
      sendJson(res, 200, { ok: true, mac, result: (await actions[route[2]!]!(mac, body)) ?? null });
      return undefined;
    } catch (error) {
      if (res.headersSent) {
        res.destroy();
        return error instanceof Error ? error.message : String(error);
      }
      return fail(statusOf(error), error instanceof Error ? error.message : String(error));
    }
  };

  const app = (req: IncomingMessage, res: ServerResponse): void => {
    const startedAt = performance.now();
    const { path, query } = splitTarget(req.url);
    let reason: string | undefined;
    res.once('close', () => {
      emit({
        kind: 'http.request',
        time: Date.now(),
        source: 'http',
        ip: normalizeIp(req.socket.remoteAddress),
        method: req.method ?? '-',
        path: path.slice(0, 256),
        status: res.statusCode,
        route: 'control',
        durationMs: Math.round(performance.now() - startedAt),
        ...(reason && { reason }),
      });
    });
    void answer(req, res, path, query).then((why) => (reason = why));
  };

  let listening;
  try {
    listening = await listenAll([{ address, port: options.port }], app, { idleTimeoutMs: 30_000, portSetting: 'controlPort in settings.json (0 turns the control API off)' });
  } catch (error) {
    emit({ kind: 'server.error', time: Date.now(), source: 'http', server: 'control', message: listenFailureText(error) });
    throw error;
  }
  const bound: HttpBind = listening.addresses[0]!;
  emit({ kind: 'server.listening', time: Date.now(), source: 'http', server: 'control', address: hostPort(bound.address, bound.port) });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await closeAll(listening.servers);
      emit({ kind: 'server.closed', time: Date.now(), source: 'http', server: 'control' });
    })();
    return closing;
  };
  options.signal?.addEventListener('abort', () => void close(), { once: true });
  if (options.signal?.aborted) await close();
  return { port: bound.port, address: bound.address, close };
}
