/**
 * Upstream http(s) files fetched once into a local cache. The origin is read at its own pace into a part
 * file; every client of that URL, the first included, tails the part file (see Download), so a second
 * client never starts another fetch. A finished download is renamed into place and named by its sidecar
 * (see CacheIndex); later requests are served from disk like any file.
 *
 * Freshness follows the origin (Cache-Control / Expires, else a default). A stale copy is revalidated on
 * its next use with If-None-Match / If-Modified-Since: 304 keeps it, 200 downloads the new version beside
 * it (readers of the old one keep their descriptor and finish with the old bytes), and an origin that is
 * unreachable, slow or failing gets the old copy served anyway (stale-if-error): a mirror that blinks
 * must never fail a boot. The size cap holds at every moment, downloads included (see CacheSpace), and
 * origins are asked through OriginClient (redirects checked hop by hop).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import type { Emit, UpstreamCacheEvent } from '../events.js';
import { openConfined, type OpenedFile } from '../files/confined-open.js';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../files/private-files.js';
import { CacheIndex, type CacheEntry } from './cache-index.js';
import { cacheLimitBytes } from './cache-limit.js';
import { CacheSpace, formatSize } from './cache-space.js';
import { DEFAULT_FRESH_MS, freshUntil } from './freshness.js';
import { describeError, OriginClient, type OriginAnswer } from './origin-request.js';
import { Download } from './upstream-download.js';

export { Download } from './upstream-download.js';

/** Every source but a failure holds the file against eviction until `release()` (call it once, when done). */
export interface CachedFile {
  readonly kind: 'cached';
  readonly opened: Extract<OpenedFile, { kind: 'file' }>;
  readonly contentType?: string;
  readonly release: () => void;
}

export interface Downloading {
  readonly kind: 'downloading';
  readonly download: Download;
  readonly release: () => void;
}

export interface UpstreamFailure {
  readonly kind: 'failed';
  /** What to answer the client: 404 when the origin said so, else 502 (bad gateway). */
  readonly status: number;
  readonly message: string;
}

export type UpstreamSource = CachedFile | Downloading | UpstreamFailure;

export interface UpstreamCacheOptions {
  readonly cacheDir: string;
  readonly emit: Emit;
  readonly progressIntervalMs?: number;
  /** Size cap of the cache directory, downloads in progress included. Default 20 GiB. */
  readonly limitBytes?: number;
  /** The largest file the cache takes (a larger one is a 502 naming the limit). Default half the cap. */
  readonly maxFileBytes?: number;
  /** Freshness when the origin gives neither Cache-Control max-age nor Expires. Default 1 h. */
  readonly defaultFreshMs?: number;
  /** A revalidation whose answer has not begun by then serves the cached copy. Default 5 s. */
  readonly revalidateTimeoutMs?: number;
  /** After a failed revalidation, the stale copy is served without asking again for this long. Default 30 s. */
  readonly staleRetryMs?: number;
  /**
   * A first fetch whose answer has not begun by then fails (the machine gets a 502 and the operator an
   * event) instead of hanging the boot. Default 30 s: mirrors can be slow to start, never that slow.
   */
  readonly fetchTimeoutMs?: number;
  /** A download that receives nothing for this long is abandoned. Default 60 s. */
  readonly stallTimeoutMs?: number;
}

/** What one lookup decided, shared by every request for the URL that arrives while it is made. */
type Decision =
  | { readonly kind: 'entry'; readonly entry: CacheEntry; readonly staleBecause?: string }
  | { readonly kind: 'downloading'; readonly download: Download }
  | UpstreamFailure;

/** usedAt reaches the sidecar at most this often per file on plain hits (it orders eviction after a restart). */
const USED_AT_PERSIST_MS = 60_000;

export class UpstreamCache {
  readonly #index: CacheIndex;
  readonly #pending = new Map<string, Promise<Decision>>();
  readonly #readers = new Map<string, number>();
  readonly #downloads = new Map<string, Download>();
  readonly #staleUntil = new Map<string, { readonly until: number; readonly error: string }>();
  readonly #origin = new OriginClient();
  readonly #pumps = new Set<Promise<void>>();
  readonly #space: CacheSpace;
  readonly #defaultFreshMs: number;
  #closed = false;
  #loadedChecked = false;

  constructor(private readonly options: UpstreamCacheOptions) {
    this.#defaultFreshMs = options.defaultFreshMs ?? DEFAULT_FRESH_MS;
    const limitBytes = options.limitBytes ?? cacheLimitBytes();
    this.#index = new CacheIndex(options.cacheDir, this.#defaultFreshMs);
    this.#space = new CacheSpace(
      this.#index,
      { limitBytes, maxFileBytes: Math.min(limitBytes, options.maxFileBytes ?? Math.floor(limitBytes / 2)) },
      (key) => this.#readers.has(key) || this.#downloads.has(key),
      (entry, totalBytes) => {
        this.#staleUntil.delete(entry.key);
        this.#emitCache('upstream.evicted', entry, { limitBytes, totalBytes });
      },
    );
  }

  static keyFor(url: string): string {
    return createHash('sha256').update(url).digest('hex').slice(0, 40);
  }

  /**
   * The cached file (opened), the download in progress, or a failure. Concurrent callers for one URL share
   * one decision: the map entry is set before the first await, so a second request can never start a
   * second fetch or a second revalidation. The file counts as read from this call on, before any await,
   * so an eviction running meanwhile passes it by.
   */
  async open(url: string): Promise<UpstreamSource> {
    if (this.#closed) return { kind: 'failed', status: 503, message: 'server shutting down' };
    const key = UpstreamCache.keyFor(url);
    this.#readers.set(key, (this.#readers.get(key) ?? 0) + 1);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      const left = (this.#readers.get(key) ?? 1) - 1;
      if (left > 0) this.#readers.set(key, left);
      else this.#readers.delete(key);
    };
    try {
      // Twice at most: a copy replaced or evicted between the decision and our open is looked up again.
      for (let attempt = 0; attempt < 2; attempt++) {
        const decision = await this.#decide(url, key);
        if (decision.kind === 'failed') {
          release();
          return decision;
        }
        if (decision.kind === 'downloading') return { kind: 'downloading', download: decision.download, release };
        const opened = await openConfined({ root: this.options.cacheDir, path: decision.entry.file });
        if (opened.kind !== 'file') continue;
        this.#touch(decision.entry);
        if (decision.staleBecause !== undefined) this.#emitCache('upstream.stale', decision.entry, { error: decision.staleBecause });
        const { contentType } = decision.entry;
        return { kind: 'cached', opened, ...(contentType && { contentType }), release };
      }
      release();
      return { kind: 'failed', status: 502, message: `cache entry for ${url} vanished twice while opening it` };
    } catch (error) {
      release();
      throw error;
    }
  }

  /** Aborts origin fetches; settles once every download has stopped writing to the cache directory. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#origin.abortAll(new Error('server shutting down'));
    await Promise.all(this.#pumps);
  }

  #decide(url: string, key: string): Promise<Decision> {
    const pending = this.#pending.get(url);
    if (pending) return pending;
    const started = this.#lookup(url, key);
    this.#pending.set(url, started);
    void started.then((decision) => {
      // A running download stays shared until it ends (#pump removes it then).
      if (decision.kind !== 'downloading' && this.#pending.get(url) === started) this.#pending.delete(url);
    });
    return started;
  }

  async #lookup(url: string, key: string): Promise<Decision> {
    await this.#index.load();
    if (!this.#loadedChecked) {
      // A cap lowered since the last run applies at once (the file asked for now is being read: spared).
      this.#loadedChecked = true;
      void this.#space.trim();
    }
    const entry = this.#index.entries.get(key);
    if (!entry || entry.url !== url || !(await this.#intact(entry))) return this.#fetch(url, key);
    const now = Date.now();
    if (now < entry.freshUntil) return { kind: 'entry', entry };
    const stale = this.#staleUntil.get(key);
    if (stale && now < stale.until) return { kind: 'entry', entry, staleBecause: stale.error };
    return this.#revalidate(entry);
  }

  async #intact(entry: CacheEntry): Promise<boolean> {
    try {
      return (await stat(this.#index.pathOf(entry.file))).size === entry.size;
    } catch {
      return false;
    }
  }

  async #revalidate(entry: CacheEntry): Promise<Decision> {
    const headers: Record<string, string> = {
      ...(entry.etag && { 'if-none-match': entry.etag }),
      ...(entry.lastModified && { 'if-modified-since': entry.lastModified }),
    };
    const answer = await this.#origin.request(entry.url, headers, this.options.revalidateTimeoutMs ?? 5000);
    if (answer.kind === 'error') return this.#serveStale(entry, answer.message);
    const { response } = answer;
    if (response.status === 304) {
      answer.release();
      await response.body?.cancel().catch(() => undefined);
      this.#staleUntil.delete(entry.key);
      const etag = response.headers.get('etag');
      const lastModified = response.headers.get('last-modified');
      const renewed: CacheEntry = {
        ...entry,
        ...(etag && { etag }),
        ...(lastModified && { lastModified }),
        freshUntil: freshUntil(response.headers, Date.now(), this.#defaultFreshMs),
      };
      if (this.#index.entries.get(entry.key) === entry) {
        this.#index.entries.set(entry.key, renewed);
        void this.#index.sync(entry.key);
      }
      this.#emitCache('upstream.revalidated', renewed, { freshUntil: renewed.freshUntil });
      return { kind: 'entry', entry: renewed };
    }
    if (!response.ok || !response.body) {
      answer.release();
      await response.body?.cancel().catch(() => undefined);
      return this.#serveStale(entry, `origin answered ${response.status}`);
    }
    this.#staleUntil.delete(entry.key);
    return this.#startDownload(entry.url, entry.key, answer, entry);
  }

  #serveStale(entry: CacheEntry, error: string): Decision {
    this.#staleUntil.set(entry.key, { until: Date.now() + (this.options.staleRetryMs ?? 30_000), error });
    return { kind: 'entry', entry, staleBecause: error };
  }

  async #fetch(url: string, key: string): Promise<Decision> {
    const answer = await this.#origin.request(url, {}, this.options.fetchTimeoutMs ?? 30_000);
    if (answer.kind === 'error') {
      this.#emit('upstream.error', url, 0, { error: answer.message });
      return { kind: 'failed', status: 502, message: answer.message };
    }
    const { response } = answer;
    if (!response.ok || !response.body) {
      answer.release();
      await response.body?.cancel().catch(() => undefined);
      const message = `origin answered ${response.status} for ${url}`;
      this.#emit('upstream.error', url, 0, { error: message });
      return { kind: 'failed', status: response.status === 404 || response.status === 410 ? 404 : 502, message };
    }
    return this.#startDownload(url, key, answer);
  }

  /** Streams a 200 into a new data file; `previous` is the copy it replaces (still served to those already reading it). */
  async #startDownload(
    url: string,
    key: string,
    answer: Extract<OriginAnswer, { kind: 'response' }>,
    previous?: CacheEntry,
  ): Promise<Decision> {
    const { response, controller } = answer;
    const encoding = response.headers.get('content-encoding');
    const lengthHeader = response.headers.get('content-length');
    const size = lengthHeader !== null && (!encoding || encoding === 'identity') && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : undefined;
    const contentType = response.headers.get('content-type') ?? undefined;
    const generation = randomBytes(4).toString('hex');
    const file = `${key}.${generation}.data`;
    const download = new Download(url, size, contentType, this.#index.pathOf(`${key}.${generation}.part-${randomBytes(4).toString('hex')}`), this.#index.pathOf(file));
    const refuse = (message: string): Decision => {
      this.#space.release(download);
      answer.release();
      controller.abort();
      this.#emit('upstream.error', url, 0, { error: message });
      return previous ? this.#serveStale(previous, message) : { kind: 'failed', status: 502, message };
    };
    // A known length takes all its room up front; a body without one claims room as it arrives.
    const noRoom = size === undefined ? undefined : await this.#space.reserve(download, size);
    if (noRoom !== undefined) return refuse(`origin file ${url} is ${formatSize(size!)}, ${noRoom}`);

    let writer: FileHandle;
    try {
      await mkdir(this.options.cacheDir, { recursive: true, mode: PRIVATE_DIR_MODE });
      writer = await open(download.path, 'w', PRIVATE_FILE_MODE);
    } catch (error) {
      return refuse(`cannot write the cache: ${describeError(error)}`);
    }

    this.#downloads.set(key, download);
    this.#emit('upstream.start', url, 0, size !== undefined ? { size } : {});
    const etag = response.headers.get('etag');
    const lastModified = response.headers.get('last-modified');
    const now = Date.now();
    const entry: CacheEntry = {
      url,
      key,
      file,
      size: 0,
      ...(contentType && { contentType }),
      ...(etag && { etag }),
      ...(lastModified && { lastModified }),
      fetchedAt: now,
      freshUntil: freshUntil(response.headers, now, this.#defaultFreshMs),
      usedAt: now,
    };
    const pumping = this.#pump(download, response, writer, answer, entry, previous);
    this.#pumps.add(pumping);
    void pumping.finally(() => this.#pumps.delete(pumping));
    return { kind: 'downloading', download };
  }

  async #pump(
    download: Download,
    response: Response,
    writer: FileHandle,
    answer: { readonly controller: AbortController; readonly release: () => void },
    entry: CacheEntry,
    previous: CacheEntry | undefined,
  ): Promise<void> {
    const started = performance.now();
    try {
      await download.receive(response.body as unknown as AsyncIterable<Uint8Array>, writer, {
        reserve: (bytes, ahead) => this.#space.reserve(download, bytes, ahead),
        // A stalled origin would otherwise hold every machine waiting on this file, and its room, forever.
        stallMs: this.options.stallTimeoutMs ?? 60_000,
        stalled: (message) => answer.controller.abort(new Error(message)),
        progressIntervalMs: this.options.progressIntervalMs ?? 250,
        progress: (rate) => this.#emit('upstream.progress', download.url, download.available, { rate, ...(download.size !== undefined && { size: download.size }) }),
      });
      await writer.close();
      await rename(download.path, download.finalPath);
      download.path = download.finalPath;
      const complete: CacheEntry = { ...entry, size: download.available };
      // The sidecar's rename is the swap: from here on the new file is the one served. Its room moves
      // from the reservation to the index in one step.
      this.#index.entries.set(entry.key, complete);
      this.#space.release(download);
      await this.#index.sync(entry.key);
      if (previous && previous.file !== complete.file) await unlink(this.#index.pathOf(previous.file)).catch(() => undefined);
      download.state = 'complete';
      const durationMs = Math.round(performance.now() - started);
      this.#emit('upstream.done', download.url, download.available, {
        size: download.available,
        durationMs,
        ...(durationMs > 0 && { rate: Math.round((download.available * 1000) / durationMs) }),
      });
      if (previous) this.#emitCache('upstream.replaced', complete, { freshUntil: complete.freshUntil });
    } catch (error) {
      download.state = 'failed';
      download.error = describeError(error);
      answer.controller.abort();
      await writer.close().catch(() => undefined);
      await unlink(download.path).catch(() => undefined);
      this.#space.release(download);
      this.#emit('upstream.error', download.url, download.available, { error: download.error });
    } finally {
      answer.release();
      if (this.#downloads.get(entry.key) === download) this.#downloads.delete(entry.key);
      this.#pending.delete(download.url);
      download.notify();
    }
  }

  #touch(entry: CacheEntry): void {
    const current = this.#index.entries.get(entry.key);
    if (!current) return;
    const now = Date.now();
    const persisted = current.usedAt;
    current.usedAt = now;
    if (now - persisted >= USED_AT_PERSIST_MS) void this.#index.sync(entry.key);
  }

  #emit(kind: 'upstream.start' | 'upstream.progress' | 'upstream.done' | 'upstream.error', url: string, bytes: number, extra: { size?: number; rate?: number; durationMs?: number; error?: string }): void {
    this.options.emit({ kind, time: Date.now(), source: 'http', url, bytes, ...extra });
  }

  #emitCache(kind: UpstreamCacheEvent['kind'], entry: CacheEntry, extra: Pick<UpstreamCacheEvent, 'freshUntil' | 'error' | 'limitBytes' | 'totalBytes'>): void {
    this.options.emit({ kind, time: Date.now(), source: 'http', url: entry.url, bytes: entry.size, ...extra });
  }
}
