/**
 * Sends one opened file: validators, conditional requests, a single byte range, HEAD, and a streamed body
 * (never buffered whole: the read stream stops while the socket is full). The handle is always closed.
 */
import type { FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { decide, entityTag, lastModified, type FileIdentity } from './conditional.js';
import { canSendfile, ClientGone, isClientGone, sendfileBody } from './sendfile-body.js';
import type { TransferMeter } from './transfer-meter.js';

/**
 * Read size per chunk. Bigger chunks mean fewer thread-pool reads and socket writes per byte (the server
 * is CPU-bound on a fast link); 32 downloads × 2 chunks in flight stays a few tens of MiB.
 */
export const READ_CHUNK_BYTES = 512 * 1024;

const CONTENT_TYPES = {
  '.ipxe': 'text/plain; charset=utf-8',
  '.cfg': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.ks': 'text/plain; charset=utf-8',
  '.preseed': 'text/plain; charset=utf-8',
  '.ign': 'application/json',
  '.json': 'application/json',
  '.iso': 'application/x-iso9660-image',
  '.efi': 'application/efi',
} as const satisfies Record<string, string>;

export function contentTypeFor(name: string): string {
  return (CONTENT_TYPES as Record<string, string>)[extname(name).toLowerCase()] ?? 'application/octet-stream';
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

export interface FileSendOutcome {
  readonly status: number;
  /** Set when a body is being streamed: the meter reports it and `done` settles when it ends. */
  readonly streaming?: Promise<void>;
  readonly reason?: string;
}

export interface BodySpan {
  readonly start: number;
  /** Inclusive. */
  readonly end: number;
  readonly length: number;
}

/**
 * Decides the response for `file` and writes its head; for a body, `sendBody` sends the span and settles
 * when it ended either way (it reports through its meter; it never rejects).
 */
export function sendFile(
  req: IncomingMessage,
  res: ServerResponse,
  file: FileIdentity & { readonly name: string; readonly contentType?: string },
  sendBody: (span: BodySpan) => Promise<void>,
): FileSendOutcome {
  const method = req.method ?? 'GET';
  const decision = decide(
    {
      method,
      range: header(req, 'range'),
      ifRange: header(req, 'if-range'),
      ifMatch: header(req, 'if-match'),
      ifNoneMatch: header(req, 'if-none-match'),
      ifModifiedSince: header(req, 'if-modified-since'),
      ifUnmodifiedSince: header(req, 'if-unmodified-since'),
    },
    file,
  );
  res.setHeader('ETag', entityTag(file));
  res.setHeader('Last-Modified', lastModified(file));
  res.setHeader('Accept-Ranges', 'bytes');

  if (decision.status === 304 || decision.status === 412) {
    res.statusCode = decision.status;
    res.end();
    return { status: decision.status, reason: decision.status === 412 ? 'precondition failed' : undefined };
  }
  if (decision.status === 416) {
    res.statusCode = 416;
    res.setHeader('Content-Range', `bytes */${file.size}`);
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end(`range not satisfiable: ${decision.reason}\n`);
    return { status: 416, reason: decision.reason };
  }

  const length = decision.end - decision.start + 1;
  res.statusCode = decision.status;
  res.setHeader('Content-Type', file.contentType ?? contentTypeFor(file.name));
  res.setHeader('Content-Length', String(length));
  if (decision.status === 206) res.setHeader('Content-Range', `bytes ${decision.start}-${decision.end}/${file.size}`);
  if (method === 'HEAD' || length === 0) {
    res.end();
    return { status: decision.status };
  }

  return { status: decision.status, streaming: sendBody({ start: decision.start, end: decision.end, length }) };
}

/**
 * Pipes a body to the client with the meter counting it; settles (never rejects) when the body ended or
 * either side gave up. A client that goes away is a transfer.error with the bytes it really got.
 */
export function streamBody(body: Readable, res: ServerResponse, meter: TransferMeter): Promise<void> {
  meter.start();
  body.on('data', (chunk: Buffer) => meter.add(chunk.length));
  // Done as soon as the last byte is handed to the socket, not after the file handle's close catches up.
  res.once('finish', () => meter.finish());
  return new Promise<void>((resolve) => {
    pipeline(body, res, (error) => {
      if (!error) meter.finish();
      else {
        const delivered = Math.max(0, meter.bytes - res.writableLength);
        meter.finish(isClientGone(error) ? new ClientGone().message : error.message, delivered);
        if (!res.destroyed) res.destroy(error);
      }
      resolve();
    });
  });
}

/**
 * Sends bytes [start, end] of an open file: sendfile(2) where the platform and socket allow, else a read
 * stream. Settles when done or failed (reported through the meter); the caller closes the handle after.
 */
export async function fileBody(res: ServerResponse, handle: FileHandle, span: BodySpan, meter: TransferMeter, zeroCopy = true): Promise<void> {
  if (!zeroCopy || !canSendfile(res)) {
    await streamBody(handle.createReadStream({ start: span.start, end: span.end, highWaterMark: READ_CHUNK_BYTES, autoClose: false }), res, meter);
    return;
  }
  meter.start();
  try {
    await sendfileBody(res, handle, span.start, span.end, meter);
    meter.finish();
  } catch (error) {
    meter.finish(isClientGone(error) ? new ClientGone().message : error instanceof Error ? error.message : String(error));
    if (!res.destroyed) res.destroy();
  }
}
