/**
 * One origin fetch in progress: how much of it is on disk, and a way to wait for more. Every client of the
 * URL tails the part file from its own position, so a slow client never slows the download.
 */
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { formatSize } from './cache-space.js';
import { READ_CHUNK_BYTES } from './file-response.js';

/** A body without Content-Length claims cache room this far ahead of its bytes (fewer checks per chunk). */
const RESERVE_AHEAD_BYTES = 2 ** 20;

export interface ReceiveHooks {
  /** Room for at least `bytes` of this file (`ahead` where it fits); resolves with why not. */
  readonly reserve: (bytes: number, ahead: number) => Promise<string | undefined>;
  readonly stallMs: number;
  readonly stalled: (message: string) => void;
  readonly progressIntervalMs: number;
  /** Bytes per second since the previous report. */
  readonly progress: (rate: number) => void;
}

type DownloadState = 'running' | 'complete' | 'failed';

export class Download {
  state: DownloadState = 'running';
  /** Bytes written to the part file so far: readers may read up to here. */
  available = 0;
  error?: string;
  #wake?: () => void;
  #changed?: Promise<void>;

  constructor(
    readonly url: string,
    /** The body length when the origin said it (and did not compress); undefined otherwise. */
    readonly size: number | undefined,
    readonly contentType: string | undefined,
    public path: string,
    readonly finalPath: string,
  ) {}

  changed(): Promise<void> {
    this.#changed ??= new Promise((resolve) => (this.#wake = resolve));
    return this.#changed;
  }

  notify(): void {
    const wake = this.#wake;
    this.#changed = this.#wake = undefined;
    wake?.();
  }

  /** Bytes [start, end] (end inclusive; undefined: to the end, whatever it turns out to be) as they arrive. */
  read(start: number, end?: number): Readable {
    return Readable.from(this.#tail(start, end), { objectMode: false, highWaterMark: READ_CHUNK_BYTES });
  }

  async *#tail(start: number, end: number | undefined): AsyncGenerator<Buffer> {
    const handle = await this.#openForReading();
    try {
      let position = start;
      const last = end ?? Number.POSITIVE_INFINITY;
      while (position <= last) {
        if (position < this.available) {
          const length = Math.min(READ_CHUNK_BYTES, this.available - position, last - position + 1);
          const buffer = Buffer.allocUnsafe(length);
          const { bytesRead } = await handle.read(buffer, 0, length, position);
          if (bytesRead === 0) throw new Error('cache part file shrank under a reader');
          position += bytesRead;
          yield bytesRead === length ? buffer : buffer.subarray(0, bytesRead);
          continue;
        }
        if (this.state === 'complete') {
          if (end !== undefined && position <= end) throw new Error('origin sent fewer bytes than announced');
          return;
        }
        if (this.state === 'failed') throw new Error(`upstream download failed: ${this.error ?? 'unknown error'}`);
        await this.changed();
      }
    } finally {
      await handle.close().catch(() => undefined);
    }
  }

  /**
   * Writes the origin's body into the part file as it arrives. Room is reserved ahead of each write
   * (`reserve` resolves with why there is none, and the download fails with that); `stalled` aborts the
   * origin request after `stallMs` without a byte. Throws on any failure; the caller cleans up.
   */
  async receive(body: AsyncIterable<Uint8Array>, writer: FileHandle, hooks: ReceiveHooks): Promise<void> {
    const started = performance.now();
    let lastAt = started;
    let lastBytes = 0;
    let reserved = this.size ?? 0;
    const stall = setTimeout(() => hooks.stalled(`origin sent nothing for ${hooks.stallMs >= 1000 ? `${Math.round(hooks.stallMs / 1000)} s` : `${hooks.stallMs} ms`}`), hooks.stallMs);
    try {
      for await (const chunk of body) {
        stall.refresh();
        const needed = this.available + chunk.length;
        if (needed > reserved) {
          const problem = await hooks.reserve(needed, needed + RESERVE_AHEAD_BYTES);
          if (problem) throw new Error(this.size === undefined ? `origin sent over ${formatSize(needed - chunk.length)}: ${problem}` : problem);
          reserved = needed;
        }
        await writer.write(chunk, 0, chunk.length, this.available);
        this.available = needed;
        this.notify();
        const now = performance.now();
        if (now - lastAt >= hooks.progressIntervalMs) {
          hooks.progress(Math.round(((this.available - lastBytes) * 1000) / (now - lastAt)));
          lastAt = now;
          lastBytes = this.available;
        }
      }
    } finally {
      clearTimeout(stall);
    }
    if (this.size !== undefined && this.available !== this.size) throw new Error(`origin sent ${this.available} of ${this.size} bytes`);
  }

  async #openForReading(): Promise<FileHandle> {
    try {
      return await open(this.path, 'r');
    } catch (error) {
      // Renamed into place between reading `path` and opening it.
      return open(this.finalPath, 'r').catch(() => Promise.reject(error));
    }
  }
}
