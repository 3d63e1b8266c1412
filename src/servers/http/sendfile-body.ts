/**
 * File bodies through sendfile(2) on Linux: the kernel moves page-cache pages into the client's socket,
 * with no copy through JavaScript buffers. Measured (bench/http.ts, 32 clients, 2 cores): streaming through
 * read()+write() reached 0.18 / 0.43 / 0.50 / 0.61 of nginx with 64 KiB / 512 KiB / 1 MiB / 2 MiB chunks
 * (and RSS grew with the chunk); this path measures 0.85–0.95 with flat RSS.
 *
 * Node has no sendfile and no "socket writable" event for a raw fd, so:
 *  - the socket fd comes from the TCP handle (Linux, plain TCP only; anything else streams as before);
 *  - sendfile runs non-blocking on the event loop in bounded slices, yielding between slices;
 *  - when the socket is full (EAGAIN) the next piece of the file goes through Node's own `write`, whose
 *    callback fires once libuv has written it: that *is* the writable event, and keeps byte order exact;
 *  - a cold file must never block the event loop on disk: readahead(2) runs on the thread pool (koffi
 *    async) ahead of each window, so sendfile only ever finds cached pages.
 */
import koffi from 'koffi';
import { readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { TransferMeter } from './transfer-meter.js';

interface Native {
  sendfile(outFd: number, inFd: number, offset: [number], count: number): number;
  readahead(fd: number, offset: number, count: number): Promise<number>;
}

// Linux errno values (the same on every architecture Node runs on there).
const EINTR = 4;
const EAGAIN = 11;
const EPIPE = 32;
const ECONNRESET = 104;
/** Sent through Node first (with the headers), and on every EAGAIN. */
const PIECE_BYTES = 64 * 1024;
/** Pulled into the page cache per thread-pool hop. */
const READAHEAD_BYTES = 8 * 2 ** 20;
/**
 * Bytes sent per event-loop turn before yielding to other clients and other servers (a few ms of copying
 * at most). Measured: 4 MiB and 16 MiB were within noise of 8 MiB; 256 KiB pieces were clearly worse.
 */
const TURN_BUDGET_BYTES = 8 * 2 ** 20;

let native: Native | null | undefined;

function loadNative(): Native | null {
  if (native !== undefined) return native;
  native = null;
  if (process.platform !== 'linux') return native;
  try {
    let lib: ReturnType<typeof koffi.load>;
    try {
      lib = koffi.load('libc.so.6');
    } catch {
      lib = koffi.load(null);
    }
    const sendfile = lib.func('intptr_t sendfile(int out_fd, int in_fd, _Inout_ int64_t *offset, size_t count)');
    const readahead = lib.func('intptr_t readahead(int fd, int64_t offset, size_t count)');
    native = {
      sendfile: (outFd, inFd, offset, count) => sendfile(outFd, inFd, offset, count) as number,
      readahead: (fd, offset, count) =>
        new Promise((resolve, reject) => {
          readahead.async(fd, offset, count, (error: unknown, result: number) => (error ? reject(error) : resolve(result)));
        }),
    };
  } catch {
    native = null;
  }
  return native;
}

/** The fd of a plain TCP socket (not TLS, not a pipe), or undefined when this path cannot be used. */
function socketFd(socket: Socket | null): number | undefined {
  const handle = (socket as unknown as { _handle?: { fd?: unknown } } | null)?._handle;
  return typeof handle?.fd === 'number' && handle.fd >= 0 ? handle.fd : undefined;
}

export function canSendfile(res: ServerResponse): boolean {
  return loadNative() !== null && socketFd(res.socket as Socket | null) !== undefined;
}

export class ClientGone extends Error {
  constructor() {
    super('client closed the connection');
  }
}

const GONE_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED']);

/** Errors that only say the client went away (reset, broken pipe, a stream closed under us). */
export function isClientGone(error: unknown): boolean {
  if (error instanceof ClientGone) return true;
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  return GONE_CODES.has(code);
}

/** Writes through Node and resolves once libuv has handed the bytes to the kernel. */
function writeThrough(res: ServerResponse, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    if (res.destroyed) return reject(new ClientGone());
    const onClose = (): void => reject(new ClientGone());
    res.once('close', onClose);
    res.write(chunk, (error) => {
      res.off('close', onClose);
      if (error) reject(res.destroyed || isClientGone(error) ? new ClientGone() : error);
      else resolve();
    });
  });
}

/**
 * Inside a window readahead(2) has just pulled into the page cache the read is a memory copy, done on the
 * spot: a thread-pool hop per socket stall costs more (context switches) than the copy itself.
 */
async function readPiece(handle: FileHandle, position: number, length: number, cached: boolean): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  const bytesRead = cached ? readSync(handle.fd, buffer, 0, length, position) : (await handle.read(buffer, 0, length, position)).bytesRead;
  if (bytesRead !== length) throw new Error(`file shrank while being sent (read ${bytesRead} of ${length} bytes at ${position})`);
  return buffer;
}

/**
 * Sends bytes [start, end] of the file and ends the response. Resolves when done, rejects with the
 * reason otherwise (the caller reports it and destroys the response). The caller closes the handle.
 */
export async function sendfileBody(res: ServerResponse, handle: FileHandle, start: number, end: number, meter: TransferMeter): Promise<void> {
  const sys = loadNative()!;
  const socket = res.socket as Socket;
  let position = start;
  let readaheadUntil = start;
  let sinceRefresh = 0;

  const throughNode = async (length: number): Promise<void> => {
    const piece = await readPiece(handle, position, length, position + length <= readaheadUntil);
    await writeThrough(res, piece);
    position += length;
    meter.add(length);
  };

  // The first piece carries the headers out through Node; only after its callback is the socket's queue
  // empty, so sendfile's bytes cannot overtake anything Node still holds.
  await throughNode(Math.min(PIECE_BYTES, end - start + 1));
  let budget = TURN_BUDGET_BYTES;
  while (position <= end) {
    if (position >= readaheadUntil) {
      const length = Math.min(READAHEAD_BYTES, end - position + 1);
      await sys.readahead(handle.fd, position, length);
      readaheadUntil = position + length;
    }
    // Looked up after the last await, right before the call: once the socket is closed its fd number can
    // belong to another file or connection, and sendfile must never write there.
    const fd = res.destroyed ? undefined : socketFd(socket);
    if (fd === undefined) throw new ClientGone();
    const offset: [number] = [position];
    const sent = sys.sendfile(fd, handle.fd, offset, Math.min(readaheadUntil, end + 1) - position);
    if (sent > 0) {
      position += sent;
      meter.add(sent);
      budget -= sent;
      sinceRefresh += sent;
      if (budget <= 0) {
        budget = TURN_BUDGET_BYTES;
        // Node's idle timer only sees its own writes: tell it this socket is busy.
        if (sinceRefresh >= 64 * 2 ** 20 && socket.timeout) {
          socket.setTimeout(socket.timeout);
          sinceRefresh = 0;
        }
        await yieldToLoop();
      }
      continue;
    }
    if (sent === 0) throw new Error(`file shrank while being sent (nothing at ${position})`);
    const errno = koffi.errno();
    if (errno === EINTR) continue;
    if (errno !== EAGAIN) throw res.destroyed || errno === EPIPE || errno === ECONNRESET ? new ClientGone() : new Error(`sendfile failed (errno ${errno})`);
    // Socket full: this piece waits in libuv until the socket drains, and its callback is our wake-up.
    await throughNode(Math.min(PIECE_BYTES, end - position + 1));
    budget = TURN_BUDGET_BYTES;
    sinceRefresh = 0;
  }
  await new Promise<void>((resolve, reject) => {
    res.once('close', () => (res.writableFinished ? resolve() : reject(new ClientGone())));
    res.end(() => resolve());
  });
}
