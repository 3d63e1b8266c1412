/**
 * Upstream http(s) files fetched once into a local cache. The origin is read at its own pace into a part
 * file; every client of that URL, the first included, tails the part file from its own position, so a
 * slow client never slows the download and a second client never starts another one. A finished download
 * is renamed into place with a small JSON sidecar; later requests are served from disk like any file.
 *
 * Cached files are not revalidated against the origin: the point is booting while the origin is far or
 * gone. Deleting the cache directory forces a fresh fetch.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Emit } from '../events.js';
import { READ_CHUNK_BYTES } from './file-response.js';

export interface CachedFile {
  readonly kind: 'cached';
  readonly path: string;
  readonly contentType?: string;
}

export interface Downloading {
  readonly kind: 'downloading';
  readonly download: Download;
}

export interface UpstreamFailure {
  readonly kind: 'failed';
  /** What to answer the client: 404 when the origin said so, else 502 (bad gateway). */
  readonly status: number;
  readonly message: string;
}

export type UpstreamSource = CachedFile | Downloading | UpstreamFailure;

interface Sidecar {
  readonly url: string;
  readonly size: number;
  readonly contentType?: string;
  readonly etag?: string;
  readonly lastModified?: string;
  readonly fetchedAt: number;
}

export interface UpstreamCacheOptions {
  readonly cacheDir: string;
  readonly emit: Emit;
  readonly progressIntervalMs?: number;
}

type DownloadState = 'running' | 'complete' | 'failed';

/** One origin fetch in progress: how much of it is on disk, and a way to wait for more. */
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

export class UpstreamCache {
  readonly #inFlight = new Map<string, Promise<UpstreamSource>>();
  readonly #aborts = new Set<AbortController>();
  #closed = false;

  constructor(private readonly options: UpstreamCacheOptions) {}

  static keyFor(url: string): string {
    return createHash('sha256').update(url).digest('hex').slice(0, 40);
  }

  /**
   * The cached file, the download in progress, or a failure. Concurrent callers for one URL share one
   * lookup: the map entry is set before the first await, so a second request can never start a second fetch.
   */
  open(url: string): Promise<UpstreamSource> {
    if (this.#closed) return Promise.resolve({ kind: 'failed', status: 503, message: 'server shutting down' });
    const pending = this.#inFlight.get(url);
    if (pending) return pending;
    const started = this.#lookupOrFetch(url);
    this.#inFlight.set(url, started);
    void started.then((source) => {
      if (source.kind !== 'downloading') this.#inFlight.delete(url);
    });
    return started;
  }

  close(): void {
    this.#closed = true;
    for (const controller of this.#aborts) controller.abort(new Error('server shutting down'));
  }

  async #lookupOrFetch(url: string): Promise<UpstreamSource> {
    const key = UpstreamCache.keyFor(url);
    const dataPath = join(this.options.cacheDir, `${key}.data`);
    const cached = await this.#readCached(url, key, dataPath);
    if (cached) return cached;
    return this.#fetch(url, key, dataPath);
  }

  async #readCached(url: string, key: string, dataPath: string): Promise<CachedFile | undefined> {
    try {
      const sidecar = JSON.parse(await readFile(join(this.options.cacheDir, `${key}.json`), 'utf8')) as Sidecar;
      const stats = await stat(dataPath);
      if (sidecar.url !== url || stats.size !== sidecar.size) return undefined;
      return { kind: 'cached', path: dataPath, ...(sidecar.contentType && { contentType: sidecar.contentType }) };
    } catch {
      return undefined;
    }
  }

  async #fetch(url: string, key: string, dataPath: string): Promise<UpstreamSource> {
    const controller = new AbortController();
    this.#aborts.add(controller);
    let response: Response;
    try {
      // identity: a compressed body would make Content-Length lie about what lands on disk.
      response = await fetch(url, { signal: controller.signal, redirect: 'follow', headers: { 'accept-encoding': 'identity', 'user-agent': 'pxedeck' } });
    } catch (error) {
      this.#aborts.delete(controller);
      const message = `cannot reach ${url}: ${describeError(error)}`;
      this.#emit('upstream.error', url, 0, { error: message });
      return { kind: 'failed', status: 502, message };
    }
    if (!response.ok || !response.body) {
      this.#aborts.delete(controller);
      await response.body?.cancel().catch(() => undefined);
      const message = `origin answered ${response.status} for ${url}`;
      this.#emit('upstream.error', url, 0, { error: message });
      return { kind: 'failed', status: response.status === 404 || response.status === 410 ? 404 : 502, message };
    }

    const encoding = response.headers.get('content-encoding');
    const lengthHeader = response.headers.get('content-length');
    const size = lengthHeader !== null && (!encoding || encoding === 'identity') && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : undefined;
    const contentType = response.headers.get('content-type') ?? undefined;

    let writer: FileHandle;
    const partPath = join(this.options.cacheDir, `${key}.part-${randomBytes(4).toString('hex')}`);
    try {
      await mkdir(this.options.cacheDir, { recursive: true });
      writer = await open(partPath, 'w');
    } catch (error) {
      this.#aborts.delete(controller);
      controller.abort();
      const message = `cannot write the cache: ${describeError(error)}`;
      this.#emit('upstream.error', url, 0, { error: message });
      return { kind: 'failed', status: 502, message };
    }

    const download = new Download(url, size, contentType, partPath, dataPath);
    this.#emit('upstream.start', url, 0, size !== undefined ? { size } : {});
    void this.#pump(download, response, writer, controller, {
      url,
      size: 0,
      ...(contentType && { contentType }),
      ...(response.headers.get('etag') && { etag: response.headers.get('etag')! }),
      ...(response.headers.get('last-modified') && { lastModified: response.headers.get('last-modified')! }),
      fetchedAt: Date.now(),
    }, key);
    return { kind: 'downloading', download };
  }

  async #pump(download: Download, response: Response, writer: FileHandle, controller: AbortController, sidecar: Sidecar, key: string): Promise<void> {
    const started = performance.now();
    const interval = this.options.progressIntervalMs ?? 250;
    let lastAt = started;
    let lastBytes = 0;
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        await writer.write(chunk, 0, chunk.length, download.available);
        download.available += chunk.length;
        download.notify();
        const now = performance.now();
        if (now - lastAt >= interval) {
          const rate = Math.round(((download.available - lastBytes) * 1000) / (now - lastAt));
          lastAt = now;
          lastBytes = download.available;
          this.#emit('upstream.progress', download.url, download.available, { rate, ...(download.size !== undefined && { size: download.size }) });
        }
      }
      if (download.size !== undefined && download.available !== download.size) {
        throw new Error(`origin sent ${download.available} of ${download.size} bytes`);
      }
      await writer.close();
      await rename(download.path, download.finalPath);
      download.path = download.finalPath;
      await writeFile(join(this.options.cacheDir, `${key}.json`), `${JSON.stringify({ ...sidecar, size: download.available })}\n`);
      download.state = 'complete';
      const durationMs = Math.round(performance.now() - started);
      this.#emit('upstream.done', download.url, download.available, {
        size: download.available,
        durationMs,
        ...(durationMs > 0 && { rate: Math.round((download.available * 1000) / durationMs) }),
      });
    } catch (error) {
      download.state = 'failed';
      download.error = describeError(error);
      controller.abort();
      await writer.close().catch(() => undefined);
      await unlink(download.path).catch(() => undefined);
      this.#emit('upstream.error', download.url, download.available, { error: download.error });
    } finally {
      this.#aborts.delete(controller);
      this.#inFlight.delete(download.url);
      download.notify();
    }
  }

  #emit(kind: 'upstream.start' | 'upstream.progress' | 'upstream.done' | 'upstream.error', url: string, bytes: number, extra: { size?: number; rate?: number; durationMs?: number; error?: string }): void {
    this.options.emit({ kind, time: Date.now(), source: 'http', url, bytes, ...extra });
  }
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}
