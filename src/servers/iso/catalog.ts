/**
 * The ISO catalog: every *.iso in the watched directories (the boot directory, the data dir's isos/) and
 * the files named on the command line, each opened once (kept open for lookups), recognised, and kept
 * until it changes on disk. It answers the HTTP server's `/iso/...` requests with the byte ranges of the
 * image to send: the whole image, or the extents of one file inside it. Nothing is extracted.
 */
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { planPaths, type IsoRecognition } from '../../boot/iso/plan.js';
import { recognizeIso } from '../../boot/iso/recognize.js';
import { IsoImage, type Extent, type ReadAt } from '../../protocol/iso9660/image.js';
import { isInside, type ConfinedFile } from '../files/confined-open.js';
import type { FileSlice, SliceAnswer } from '../http/slice-body.js';
import { readSnapshot } from './snapshot-reader.js';

export interface IsoCatalogEntry {
  /** Unique among the catalog's ISOs; names it in URLs (`/iso/<id>.iso`, `/iso/<id>/<path>`). */
  readonly id: string;
  readonly path: string;
  readonly fileName: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly recognition: IsoRecognition;
}

export interface IsoCatalogOptions {
  /** Directories whose *.iso files are catalogued (missing ones are skipped). */
  readonly directories: readonly string[];
  /** Files named by the operator (`--iso`): catalogued whatever their name; a missing one is a problem. */
  readonly files?: readonly string[];
  /** Boot files on hand (wimboot is looked for here). */
  readonly bootFiles: () => ReadonlySet<string>;
  /** Id for a file name, unique in the catalog (see isoProfileId). */
  readonly idFor: (fileName: string) => string;
}

export interface IsoCatalog {
  /** Scans again: new and changed files are read, removed ones forgotten. */
  refresh(): Promise<void>;
  entries(): readonly IsoCatalogEntry[];
  /** Answers `/iso/<rest>`. */
  resolve(rest: readonly string[]): Promise<SliceAnswer>;
  close(): Promise<void>;
}

/** More ISOs than this in the watched directories are left out (with a problem said). */
export const MAX_ISOS = 256;

interface Opened {
  readonly entry: IsoCatalogEntry;
  /** Where its bytes are served from: its directory confines it (see confined-open.ts). */
  readonly file: ConfinedFile;
  readonly handle?: FileHandle;
  readonly image?: IsoImage;
}

function readerOf(handle: FileHandle): ReadAt {
  return async (offset, length) => {
    const buffer = Buffer.allocUnsafe(length);
    const { bytesRead } = await handle.read(buffer, 0, length, offset);
    return buffer.subarray(0, bytesRead);
  };
}

/** A watched directory's ISOs, each confined to that directory. */
function isoFilesIn(directory: string): ConfinedFile[] {
  if (!existsSync(directory)) return [];
  try {
    return readdirSync(directory)
      .filter((name) => name.toLowerCase().endsWith('.iso'))
      .sort()
      .map((name) => ({ root: directory, path: name }));
  } catch {
    return [];
  }
}

/** An ISO the operator named (`--iso`): by its real path, confined to the directory it lies in. */
function namedIso(file: string): ConfinedFile {
  let real = resolve(file);
  try {
    real = realpathSync(real);
  } catch {
    // Missing: reported as such when it is opened.
  }
  return { root: dirname(real), path: basename(real) };
}

/** Why a catalogued name is no ISO to serve (a link out of its directory), or undefined. */
function escapes(file: ConfinedFile): string | undefined {
  try {
    const rootReal = realpathSync(file.root);
    const real = realpathSync(join(file.root, file.path));
    return isInside(rootReal, real) ? undefined : `it is a link out of ${file.root} (to ${real}): not served; copy the ISO into ${file.root} or name it with --iso`;
  } catch {
    return undefined;
  }
}

async function openIso(path: string, fileName: string, id: string, size: number, mtimeMs: number, bootFiles: ReadonlySet<string>): Promise<Omit<Opened, 'file'>> {
  const base = { id, path, fileName, size, mtimeMs };
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'r');
    const readAt = readerOf(handle);
    const image = await IsoImage.open(readAt, size);
    let recognition = recognizeIso(await readSnapshot(image, readAt, fileName), { bootFiles });
    if (recognition.ok) {
      // Every file the plan names must be on the image and servable as stored.
      for (const planned of planPaths(recognition.plan)) {
        const found = await image.lookup(planned);
        const problem = found?.kind !== 'file' ? `${planned} is not on the image` : found.unreadable ? `${planned} cannot be served: ${found.unreadable}` : undefined;
        if (problem) {
          recognition = { ok: false, distribution: recognition.plan.distribution, reason: `it looks like ${recognition.plan.layout}, but ${problem}` };
          break;
        }
      }
    }
    return { entry: { ...base, recognition }, handle, image };
  } catch (error) {
    await handle?.close().catch(() => undefined);
    const message = error instanceof Error ? error.message : String(error);
    return { entry: { ...base, recognition: { ok: false, reason: `cannot be read as an ISO 9660 image: ${message}` } } };
  }
}

export function createIsoCatalog(options: IsoCatalogOptions): IsoCatalog {
  let opened = new Map<string, Opened>();
  let refreshing: Promise<void> | undefined;

  const scan = async (): Promise<void> => {
    const explicit = (options.files ?? []).map(namedIso);
    // An --iso given through a link keeps the name the operator typed (the profile is named after it).
    const givenNames = new Map(explicit.map((file, index) => [join(file.root, file.path), basename(options.files![index]!)] as const));
    const nameOf = (path: string) => givenNames.get(path) ?? basename(path);
    const candidates = [...explicit, ...options.directories.flatMap((directory) => isoFilesIn(resolve(directory)))];
    const files = new Map(candidates.map((file) => [join(file.root, file.path), file] as const));
    const found = [...files.keys()].slice(0, MAX_ISOS);
    const next = new Map<string, Opened>();
    const usedIds = new Set<string>();
    for (const path of found) {
      const file = files.get(path)!;
      const escaping = escapes(file);
      if (escaping !== undefined) {
        const id = uniqueId(options.idFor(nameOf(path)), usedIds);
        next.set(path, { file, entry: { id, path, fileName: nameOf(path), size: 0, mtimeMs: 0, recognition: { ok: false, reason: escaping } } });
        continue;
      }
      let stats;
      try {
        stats = statSync(path);
      } catch (error) {
        const id = uniqueId(options.idFor(nameOf(path)), usedIds);
        next.set(path, { file, entry: { id, path, fileName: nameOf(path), size: 0, mtimeMs: 0, recognition: { ok: false, reason: `cannot be opened: ${(error as Error).message}` } } });
        continue;
      }
      if (!stats.isFile()) continue;
      const previous = opened.get(path);
      if (previous && previous.entry.size === stats.size && previous.entry.mtimeMs === stats.mtimeMs) {
        usedIds.add(previous.entry.id);
        next.set(path, previous);
        continue;
      }
      await previous?.handle?.close().catch(() => undefined);
      const id = uniqueId(options.idFor(nameOf(path)), usedIds);
      next.set(path, { ...(await openIso(path, nameOf(path), id, stats.size, stats.mtimeMs, options.bootFiles())), file });
    }
    for (const [path, old] of opened) if (!next.has(path)) await old.handle?.close().catch(() => undefined);
    opened = next;
  };

  const byId = (id: string): Opened | undefined => [...opened.values()].find((item) => item.entry.id === id);

  return {
    refresh() {
      refreshing ??= scan().finally(() => {
        refreshing = undefined;
      });
      return refreshing;
    },
    entries: () => [...opened.values()].map((item) => item.entry),
    async resolve(rest): Promise<SliceAnswer> {
      const [first, ...inside] = rest;
      if (first === undefined) return { kind: 'missing' };
      if (inside.length === 0 && first.toLowerCase().endsWith('.iso')) {
        const item = byId(first.slice(0, -4));
        if (!item?.image) return { kind: 'missing' };
        return { kind: 'slice', slice: sliceOf(item, item.entry.fileName, [{ offset: 0, length: item.entry.size }], item.entry.size) };
      }
      const item = byId(first);
      if (!item?.image) return { kind: 'missing' };
      let file;
      try {
        file = await item.image.lookup(inside.join('/'));
      } catch (error) {
        return { kind: 'refused', status: 500, reason: `${item.entry.fileName}: ${(error as Error).message}` };
      }
      if (file?.kind !== 'file') return { kind: 'missing' };
      if (file.unreadable) return { kind: 'refused', status: 403, reason: `${inside.join('/')} in ${item.entry.fileName} cannot be served: ${file.unreadable}` };
      return { kind: 'slice', slice: sliceOf(item, file.name, file.extents, file.size) };
    },
    async close() {
      await refreshing?.catch(() => undefined);
      for (const item of opened.values()) await item.handle?.close().catch(() => undefined);
      opened = new Map();
    },
  };
}

function sliceOf(item: Opened, name: string, pieces: readonly Extent[], size: number): FileSlice {
  return { file: item.file, name, pieces, size, image: { size: item.entry.size, mtimeMs: item.entry.mtimeMs } };
}

function uniqueId(id: string, used: Set<string>): string {
  let candidate = id;
  for (let count = 2; used.has(candidate); count++) candidate = `${id}-${count}`;
  used.add(candidate);
  return candidate;
}
