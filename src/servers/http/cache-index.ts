/**
 * What the upstream cache holds: one entry per URL, each a data file and a JSON sidecar naming it. The
 * sidecar is the commit point: a new version is a new data file, and renaming its sidecar into place is
 * what makes it the one served. Sidecar writes for one key run in order and always write the entry as it
 * is at that moment (or remove the sidecar when the entry is gone), so a late write never resurrects an
 * evicted entry or points back at a replaced file.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../files/private-files.js';

export interface CacheEntry {
  readonly url: string;
  readonly key: string;
  /** The data file's name in the cache directory. */
  readonly file: string;
  readonly size: number;
  readonly contentType?: string;
  readonly etag?: string;
  readonly lastModified?: string;
  readonly fetchedAt: number;
  /** Served without asking the origin until then (ms since the epoch). */
  freshUntil: number;
  /** Last served (ms since the epoch): the eviction order. */
  usedAt: number;
}

interface Sidecar extends Omit<CacheEntry, 'key' | 'file' | 'freshUntil' | 'usedAt'> {
  /** Absent in sidecars written before revalidation existed: then `<key>.data`, fresh for the default. */
  readonly file?: string;
  readonly freshUntil?: number;
  readonly usedAt?: number;
}

const SIDECAR = /^([0-9a-f]{40})\.json$/;
/** Data, part and sidecar-temporary files: the ones no sidecar names are leftovers of a crash. */
const DATA = /^[0-9a-f]{40}\.(?:(?:[0-9a-f]+\.)?(?:data|part-[0-9a-f]+)|json\.[0-9a-f]+\.tmp)$/;

export class CacheIndex {
  readonly entries = new Map<string, CacheEntry>();
  readonly #writes = new Map<string, Promise<void>>();
  #loaded?: Promise<void>;

  constructor(
    readonly dir: string,
    private readonly defaultFreshMs: number,
  ) {}

  pathOf(file: string): string {
    return join(this.dir, file);
  }

  /** Reads every sidecar once and removes data files none of them names (a crash mid-download or mid-swap). */
  load(): Promise<void> {
    this.#loaded ??= this.#load();
    return this.#loaded;
  }

  async #load(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return;
    }
    for (const name of names) {
      const key = SIDECAR.exec(name)?.[1];
      if (!key) continue;
      try {
        const sidecar = JSON.parse(await readFile(join(this.dir, name), 'utf8')) as Sidecar;
        const fetchedAt = sidecar.fetchedAt ?? 0;
        this.entries.set(key, {
          ...sidecar,
          key,
          file: sidecar.file ?? `${key}.data`,
          fetchedAt,
          freshUntil: sidecar.freshUntil ?? fetchedAt + this.defaultFreshMs,
          usedAt: sidecar.usedAt ?? fetchedAt,
        });
      } catch {
        // An unreadable sidecar is a miss: the next request fetches again and writes a good one.
      }
    }
    const named = new Set([...this.entries.values()].map((entry) => entry.file));
    for (const name of names) {
      if (DATA.test(name) && !named.has(name)) await unlink(join(this.dir, name)).catch(() => undefined);
    }
  }

  /** Writes (or removes) the sidecar of `key` as the index has it when the write's turn comes. */
  sync(key: string): Promise<void> {
    const previous = this.#writes.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.#write(key)).catch(() => undefined);
    this.#writes.set(key, next);
    void next.then(() => {
      if (this.#writes.get(key) === next) this.#writes.delete(key);
    });
    return next;
  }

  async #write(key: string): Promise<void> {
    const path = join(this.dir, `${key}.json`);
    const entry = this.entries.get(key);
    if (!entry) {
      await unlink(path).catch(() => undefined);
      return;
    }
    const { key: _key, ...sidecar } = entry;
    await mkdir(this.dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    const temporary = `${path}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(temporary, `${JSON.stringify(sidecar)}\n`, { mode: PRIVATE_FILE_MODE });
    await rename(temporary, path);
  }

  totalBytes(): number {
    let total = 0;
    for (const entry of this.entries.values()) total += entry.size;
    return total;
  }
}
