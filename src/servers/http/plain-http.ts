/**
 * The few things pxedeck's two HTTP servers need on top of node:http: a header as one string, a text or
 * JSON answer (no body for HEAD: Node leaves it out), and a bounded JSON request body. Written here rather
 * than with express: the routes are a handful of fixed paths, and express cost ~10 MB of resident memory.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A request header as one string (repeated ones joined), or undefined. */
export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The path and query of the request target, split at the first `?`. */
export function splitTarget(url: string | undefined): { readonly path: string; readonly query: URLSearchParams } {
  const target = url ?? '/';
  const mark = target.indexOf('?');
  return { path: mark === -1 ? target : target.slice(0, mark), query: new URLSearchParams(mark === -1 ? '' : target.slice(mark + 1)) };
}

export function sendText(res: ServerResponse, status: number, body: string, headers: Readonly<Record<string, string>> = {}): void {
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

/** An error whose status is the answer (400 bad JSON, 413 too large). */
export class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Whether the request says its body is JSON (`application/json`, parameters allowed). */
export function isJsonBody(req: IncomingMessage): boolean {
  return /^application\/json\s*(;|$)/i.test(header(req, 'content-type') ?? '');
}

/** The request body parsed as JSON (any JSON value); undefined when there is none. Rejects with a BodyError. */
export function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    let failed = false;
    const fail = (error: BodyError): void => {
      failed = true;
      req.resume();
      reject(error);
    };
    const declared = Number(header(req, 'content-length') ?? NaN);
    if (declared > limitBytes) return fail(new BodyError(413, `request body too large: more than ${limitBytes} bytes`));
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      length += chunk.length;
      if (length > limitBytes) return fail(new BodyError(413, `request body too large: more than ${limitBytes} bytes`));
      chunks.push(chunk);
    });
    req.once('error', (error) => {
      if (!failed) fail(new BodyError(400, `request body: ${error.message}`));
    });
    req.once('end', () => {
      if (failed) return;
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve(undefined);
      try {
        resolve(JSON.parse(text));
      } catch (error) {
        fail(new BodyError(400, `request body is not JSON: ${error instanceof Error ? error.message : String(error)}`));
      }
    });
  });
}
