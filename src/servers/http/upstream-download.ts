/**
 * One origin fetch in progress: how much of it is on disk, and a way to wait for more. Every client of the
 * URL tails the part file from its own position, so a slow client never slows the download.
 */
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { READ_CHUNK_BYTES } from './file-response.js';

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

  async #openForReading(): Promise<FileHandle> {
    try {
      return await open(this.path, 'r');
    } catch (error) {
      // Renamed into place between reading `path` and opening it.
      return open(this.finalPath, 'r').catch(() => Promise.reject(error));
    }
  }
}
