/**
 * The upstream cache's disk budget. Everything counts against the cap: finished files (the index) and
 * every download in progress, which holds a reservation — its whole Content-Length from the start, or,
 * without one, room claimed ahead of the bytes as they arrive. Room is made by evicting the
 * least-recently-used files nobody is reading (a file being read keeps its disk blocks until its reader
 * closes it, so evicting it would free nothing). When that is not enough the reservation is refused and
 * the download fails: the cache never grows past its cap, whatever the origin sends.
 */
import { unlink } from 'node:fs/promises';
import type { CacheEntry, CacheIndex } from './cache-index.js';

export interface SpaceLimits {
  /** The cap on the cache directory. */
  readonly limitBytes: number;
  /** The largest single file the cache takes. */
  readonly maxFileBytes: number;
}

/** 1.5 MiB, 20.0 GiB: sizes in the words of an error the operator reads. */
export function formatSize(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

export class CacheSpace {
  /** Bytes reserved per download in progress. */
  readonly #claims = new Map<object, number>();

  constructor(
    private readonly index: CacheIndex,
    readonly limits: SpaceLimits,
    /** Files being read or replaced are never evicted. */
    private readonly isBusy: (key: string) => boolean,
    private readonly onEvicted: (entry: CacheEntry, totalBytes: number) => void,
  ) {}

  /** Finished files plus every reservation. */
  used(): number {
    let total = this.index.totalBytes();
    for (const bytes of this.#claims.values()) total += bytes;
    return total;
  }

  /**
   * Grows `claim`'s reservation to at least `bytes` — to `ahead` where that fits without evicting more —
   * evicting idle files when the cap asks for it. Resolves with why it cannot (the reservation is then
   * unchanged), or undefined once the room is there.
   */
  async reserve(claim: object, bytes: number, ahead = bytes): Promise<string | undefined> {
    const { limitBytes, maxFileBytes } = this.limits;
    if (bytes > maxFileBytes) return `above the upstream cache's per-file limit of ${formatSize(maxFileBytes)}`;
    const held = this.#claims.get(claim) ?? 0;
    if (bytes <= held) return undefined;
    const over = this.used() + (bytes - held) - limitBytes;
    const victims = over > 0 ? this.#victims(over) : [];
    if (victims === undefined) {
      return `cache full: ${formatSize(this.used())} held by files being read or downloaded, ${formatSize(bytes - held)} more would pass the ${formatSize(limitBytes)} cap (raise upstreamCacheGiB)`;
    }
    // Bookkeeping first, synchronously: a second reservation made meanwhile sees the room as taken.
    for (const entry of victims) this.index.entries.delete(entry.key);
    const room = limitBytes - (this.used() - held);
    this.#claims.set(claim, Math.max(bytes, Math.min(ahead, maxFileBytes, room)));
    await this.#remove(victims);
    return undefined;
  }

  release(claim: object): void {
    this.#claims.delete(claim);
  }

  /** Evicts idle files until the cache fits its cap (a cap lowered since the last run applies at once). */
  async trim(): Promise<void> {
    const over = this.used() - this.limits.limitBytes;
    if (over <= 0) return;
    const victims = this.#victims(over) ?? this.#idle();
    for (const entry of victims) this.index.entries.delete(entry.key);
    await this.#remove(victims);
  }

  #idle(): CacheEntry[] {
    return [...this.index.entries.values()].filter((entry) => !this.isBusy(entry.key)).sort((a, b) => a.usedAt - b.usedAt);
  }

  /** The least-recently-used idle files that free at least `bytes`, or undefined when all of them would not. */
  #victims(bytes: number): CacheEntry[] | undefined {
    const chosen: CacheEntry[] = [];
    let freed = 0;
    for (const entry of this.#idle()) {
      if (freed >= bytes) break;
      chosen.push(entry);
      freed += entry.size;
    }
    return freed >= bytes ? chosen : undefined;
  }

  async #remove(victims: readonly CacheEntry[]): Promise<void> {
    for (const entry of victims) {
      await this.index.sync(entry.key);
      await unlink(this.index.pathOf(entry.file)).catch(() => undefined);
      this.onEvicted(entry, this.used());
    }
  }
}
