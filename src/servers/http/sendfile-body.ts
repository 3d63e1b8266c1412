/**
 * File bodies through sendfile(2) on Linux: the kernel moves page-cache pages into the client's socket,
 * with no copy through JavaScript buffers. Measured (bench/http.ts, 32 clients, 2 cores): streaming through
 * read()+write() reached 0.18 / 0.43 / 0.50 / 0.61 of nginx with 64 KiB / 512 KiB / 1 MiB / 2 MiB chunks
 * (RSS growing with the chunk); sendfile on the event loop 0.86–0.90; sendfile on the thread pool, as
 * here, 0.92–0.98 with flat RSS, and the event loop (DHCP, TFTP) never does the copying.
 *
 * Node has no sendfile and no "socket writable" event for a raw fd, so:
 *  - the socket's fd is dup()ed once while Node's handle is alive: our calls then use a descriptor Node
 *    cannot close under us, so a sendfile can never land in a reused fd number (another file or client);
 *  - sendfile runs on the thread pool (koffi async) on that non-blocking descriptor;
 *  - when it sends nothing (socket full, or an error koffi's async calls cannot report) the next piece of
 *    the file goes through Node's own `write`, whose callback fires once libuv has written it: that *is*
 *    the writable event, keeps byte order exact, and surfaces a real error (reset, broken pipe) as Node's;
 *  - readahead(2) pulls each window into the page cache on the thread pool first, so those pieces are a
 *    memory copy that can be read on the spot.
 */
import koffi from 'koffi';
import { optionalLinuxCalls } from '../net/libc.js';
import { readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { TransferMeter } from './transfer-meter.js';

interface Native {
  sendfile(outFd: number, inFd: number, offset: [number], count: number): Promise<number>;
  readahead(fd: number, offset: number, count: number): Promise<number>;
  dup(fd: number): number;
  close(fd: number): number;
}

/** Sent through Node first (with the headers), and whenever the socket is full. */
const PIECE_BYTES = 64 * 1024;
/** Pulled into the page cache per thread-pool hop; also the most one sendfile call is asked for. */
const READAHEAD_BYTES = 8 * 2 ** 20;
/** Node's idle timer only sees its own writes: re-arm it after this many bytes went by sendfile. */
const IDLE_REFRESH_BYTES = 64 * 2 ** 20;

function asPromise(call: { async: (...args: unknown[]) => void }, ...args: unknown[]): Promise<number> {
  return new Promise((resolve, reject) => {
    call.async(...args, (error: unknown, result: number) => (error ? reject(error) : resolve(result)));
  });
}

const loadNative = optionalLinuxCalls((lib): Native => {
  const sendfile = lib.func('intptr_t sendfile(int out_fd, int in_fd, _Inout_ int64_t *offset, size_t count)');
  const readahead = lib.func('intptr_t readahead(int fd, int64_t offset, size_t count)');
  const dup = lib.func('int dup(int fd)');
  const close = lib.func('int close(int fd)');
  return {
    sendfile: (outFd, inFd, offset, count) => asPromise(sendfile, outFd, inFd, offset, count),
    readahead: (fd, offset, count) => asPromise(readahead, fd, offset, count),
    dup: (fd) => dup(fd) as number,
    close: (fd) => close(fd) as number,
  };
});

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
 * The buffers of pieces sent through Node, reused. A piece lives until its write's callback (a socket
 * stall can last long enough for it to survive two scavenges), so a fresh one per piece was freed only
 * by a full collection, and the process's malloc heap grew by ~6 MiB per 32 × 200 MB load (bench:memory
 * --http-rounds 3: 65 → 72 → 78 → 80 MiB). Kept: as many as were ever in use at once, at most MAX_SPARE.
 */
const spare: Buffer[] = [];
const MAX_SPARE = 64;

/** Lent to one piece; give it back with returnPiece once Node has written it. */
function borrowPiece(): Buffer {
  return spare.pop() ?? Buffer.allocUnsafeSlow(PIECE_BYTES);
}

function returnPiece(buffer: Buffer): void {
  if (spare.length < MAX_SPARE) spare.push(buffer);
}

/**
 * Inside a window readahead(2) has just pulled into the page cache the read is a memory copy, done on the
 * spot: a thread-pool hop per socket stall costs more (context switches) than the copy itself.
 */
async function readPiece(buffer: Buffer, handle: FileHandle, position: number, length: number, cached: boolean): Promise<Buffer> {
  const bytesRead = cached ? readSync(handle.fd, buffer, 0, length, position) : (await handle.read(buffer, 0, length, position)).bytesRead;
  if (bytesRead !== length) throw new Error(`file shrank while being sent (read ${bytesRead} of ${length} bytes at ${position})`);
  return buffer.subarray(0, length);
}

/**
 * Sends bytes [start, end] of the file and ends the response. Resolves when done, rejects with the
 * reason otherwise (the caller reports it and destroys the response). The caller closes the file.
 */
export async function sendfileBody(res: ServerResponse, handle: FileHandle, start: number, end: number, meter: TransferMeter): Promise<void> {
  const sys = loadNative()!;
  const socket = res.socket as Socket;
  let position = start;
  let readaheadUntil = start;
  let sinceRefresh = 0;

  const throughNode = async (length: number): Promise<void> => {
    const buffer = borrowPiece();
    // Given back only once written: after a failure libuv may still hold it, and the collector frees it.
    await writeThrough(res, await readPiece(buffer, handle, position, length, position + length <= readaheadUntil));
    returnPiece(buffer);
    position += length;
    meter.add(length);
  };

  // The first piece carries the headers out through Node; only after its callback is the socket's queue
  // empty, so sendfile's bytes cannot overtake anything Node still holds.
  await throughNode(Math.min(PIECE_BYTES, end - start + 1));
  if (position > end) return endResponse(res);

  const nodeFd = res.destroyed ? undefined : socketFd(socket);
  const fd = nodeFd === undefined ? -1 : sys.dup(nodeFd);
  if (fd < 0) throw res.destroyed ? new ClientGone() : new Error('cannot duplicate the socket descriptor');
  try {
    while (position <= end) {
      if (res.destroyed) throw new ClientGone();
      if (position >= readaheadUntil) {
        const length = Math.min(READAHEAD_BYTES, end - position + 1);
        await sys.readahead(handle.fd, position, length);
        readaheadUntil = position + length;
        continue;
      }
      const offset: [number] = [position];
      const sent = await sys.sendfile(fd, handle.fd, offset, readaheadUntil - position);
      if (sent > 0) {
        position += sent;
        meter.add(sent);
        sinceRefresh += sent;
        if (sinceRefresh >= IDLE_REFRESH_BYTES && socket.timeout) {
          socket.setTimeout(socket.timeout);
          sinceRefresh = 0;
        }
        continue;
      }
      if (sent === 0) throw new Error(`file shrank while being sent (nothing at ${position})`);
      // Socket full (or failed): this piece waits in libuv until the socket drains, and its callback is our
      // wake-up; if the connection is broken, Node's write says so.
      await throughNode(Math.min(PIECE_BYTES, end - position + 1));
      sinceRefresh = 0;
    }
  } finally {
    sys.close(fd);
  }
  await endResponse(res);
}

function endResponse(res: ServerResponse): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    res.once('close', () => (res.writableFinished ? resolve() : reject(new ClientGone())));
    res.end(() => resolve());
  });
}
