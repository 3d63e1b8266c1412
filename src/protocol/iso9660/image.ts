/**
 * Reads an ISO 9660 image through a caller-given `readAt`, without mounting or extracting it: the volume
 * descriptors, then directories on demand (cached), names from Rock Ridge when present, else Joliet, else
 * the plain 8.3 identifiers. A file is a list of extents (byte ranges in the image): serving it is serving
 * those ranges of the image. Everything a malformed image can do ends in an IsoFormatError, within bounds.
 */
import { parseDirectory, plainName, type DirectoryRecord, type NameEncoding } from './directory-record.js';
import { DESCRIPTOR_SIZE, DESCRIPTOR_START, IsoFormatError, Region } from './format.js';
import { emptySystemUse, modeKind, parseSystemUse, type SystemUseFields } from './system-use.js';
import { MAX_DESCRIPTORS, parseVolumeDescriptors, type VolumeInfo } from './volume-descriptors.js';

/** Reads `length` bytes at `offset`; fewer only where the image ends. */
export type ReadAt = (offset: number, length: number) => Promise<Uint8Array>;

export interface Extent {
  readonly offset: number;
  readonly length: number;
}

export interface IsoEntry {
  readonly name: string;
  readonly kind: 'file' | 'directory' | 'symlink';
  readonly size: number;
  /** Where the bytes are in the image, in order (one extent, except for files of 4 GiB and more). */
  readonly extents: readonly Extent[];
  readonly symlink?: string;
  /** Why the stored bytes are not the file (zisofs, interleaving) or cannot be read (past the end). */
  readonly unreadable?: string;
}

export type Namespace = 'rock-ridge' | 'joliet' | 'iso9660';

export interface IsoLimits {
  /** The largest directory extent read. */
  readonly maxDirectoryBytes: number;
  /** Entries kept in the directory cache across directories. */
  readonly maxCachedEntries: number;
  /** Rock Ridge continuation areas followed per record. */
  readonly maxContinuations: number;
  readonly maxSymlinkHops: number;
  readonly maxPathComponents: number;
}

export const DEFAULT_LIMITS: IsoLimits = {
  maxDirectoryBytes: 32 * 2 ** 20,
  maxCachedEntries: 200_000,
  maxContinuations: 16,
  maxSymlinkHops: 16,
  maxPathComponents: 128,
};

export interface VolumeSummary {
  readonly volumeId: string;
  readonly systemId: string;
  readonly publisherId: string;
  readonly applicationId: string;
  readonly blockSize: number;
  /** Bytes the volume says it spans. */
  readonly volumeBytes: number;
}

export class IsoImage {
  private readonly cache = new Map<number, IsoEntry[]>();
  private cachedEntries = 0;

  private constructor(
    private readonly readAt: ReadAt,
    /** The image file's size in bytes. */
    readonly size: number,
    private readonly info: VolumeInfo,
    readonly namespace: Namespace,
    private readonly suspSkip: number,
    private readonly rootEntry: IsoEntry,
    readonly bootCatalogBlock: number | undefined,
    /** A UDF file system is on the image too (a UDF bridge, e.g. Windows install media). */
    readonly hasUdf: boolean,
    private readonly limits: IsoLimits,
  ) {}

  static async open(readAt: ReadAt, size: number, limits: IsoLimits = DEFAULT_LIMITS): Promise<IsoImage> {
    if (!Number.isSafeInteger(size) || size < DESCRIPTOR_START + DESCRIPTOR_SIZE) {
      throw new IsoFormatError(`the file is ${size} bytes, too small for an ISO 9660 image (at least ${DESCRIPTOR_START + DESCRIPTOR_SIZE})`, 0);
    }
    const area = await readExactly(readAt, size, DESCRIPTOR_START, Math.min(MAX_DESCRIPTORS * DESCRIPTOR_SIZE, size - DESCRIPTOR_START), 'the volume descriptors');
    const set = parseVolumeDescriptors(area.subarray(0, area.length - (area.length % DESCRIPTOR_SIZE)));
    const primaryRoot = parseDirectory(set.primary.root, 'ascii')[0]!;
    // Rock Ridge announces itself with SP in the root directory's "." record (SUSP §5.3).
    const rootDirectory = await readExactly(readAt, size, primaryRoot.block * set.primary.blockSize, Math.min(primaryRoot.dataLength, DESCRIPTOR_SIZE), 'the root directory');
    const dot = parseDirectory(new Region(rootDirectory, primaryRoot.block * set.primary.blockSize), 'ascii')[0];
    const sp = dot ? emptySystemUse() : undefined;
    if (dot && sp) parseSystemUse(dot.systemUse, 0, sp);
    let namespace: Namespace;
    let info: VolumeInfo;
    if (sp?.susp) [namespace, info] = ['rock-ridge', set.primary];
    else if (set.joliet) [namespace, info] = ['joliet', set.joliet];
    else [namespace, info] = ['iso9660', set.primary];
    const root = parseDirectory(info.root, namespace === 'joliet' ? 'ucs2' : 'ascii')[0]!;
    if (!root.isDirectory) info.root.fail('the root directory record is not a directory', 25);
    const rootEntry: IsoEntry = { name: '', kind: 'directory', size: root.dataLength, extents: [{ offset: root.block * info.blockSize, length: root.dataLength }] };
    return new IsoImage(readAt, size, info, namespace, sp?.susp?.skip ?? 0, rootEntry, set.bootCatalogBlock, set.udf, limits);
  }

  get volume(): VolumeSummary {
    const { volumeId, systemId, publisherId, applicationId, blockSize, blocks } = this.info;
    return { volumeId, systemId, publisherId, applicationId, blockSize, volumeBytes: blocks * blockSize };
  }

  /** The image file is shorter than the volume it holds (an interrupted download). */
  get isTruncated(): boolean {
    return this.volume.volumeBytes > this.size;
  }

  get root(): IsoEntry {
    return this.rootEntry;
  }

  /** The entries of a directory ("." and ".." left out). */
  async list(directory: IsoEntry): Promise<readonly IsoEntry[]> {
    if (directory.kind !== 'directory') throw new Error(`"${directory.name}" is not a directory`);
    const extent = directory.extents[0]!;
    const cached = this.cache.get(extent.offset);
    if (cached) return cached;
    if (extent.length > this.limits.maxDirectoryBytes) {
      throw new IsoFormatError(`directory "${directory.name}" is ${extent.length} bytes, over the ${this.limits.maxDirectoryBytes}-byte limit`, extent.offset);
    }
    const bytes = await readExactly(this.readAt, this.size, extent.offset, extent.length, `directory "${directory.name}"`);
    const records = parseDirectory(new Region(bytes, extent.offset), this.namespace === 'joliet' ? 'ucs2' : 'ascii');
    const entries: IsoEntry[] = [];
    let pending: { record: DirectoryRecord; fields: SystemUseFields; extents: Extent[]; size: number } | undefined;
    for (const record of records) {
      if (record.identifier === '.' || record.identifier === '..') continue;
      if (pending && record.identifier !== pending.record.identifier) {
        throw new IsoFormatError(`multi-extent file "${pending.record.identifier}" is followed by "${record.identifier}" instead of its next extent`, record.offset);
      }
      const fields = pending?.fields ?? (await this.systemUseOf(record));
      const extents = pending?.extents ?? [];
      extents.push({ offset: record.block * this.info.blockSize, length: record.dataLength });
      const size = (pending?.size ?? 0) + record.dataLength;
      if (record.isMultiExtent && !record.isDirectory) {
        pending = { record, fields, extents, size };
        continue;
      }
      pending = undefined;
      const entry = await this.entryOf(record, fields, extents, size);
      if (entry) entries.push(entry);
    }
    if (pending) throw new IsoFormatError(`multi-extent file "${pending.record.identifier}" ends without its last extent`, pending.record.offset);
    this.remember(extent.offset, entries);
    return entries;
  }

  /** The entry at `path` ("/" or "" is the root), following symbolic links inside the image; undefined when absent. */
  async lookup(path: string): Promise<IsoEntry | undefined> {
    return this.resolve(path.split('/').filter((part) => part !== '' && part !== '.'), 0);
  }

  /** A file's bytes, whole; refused above `maxBytes` (for configuration files, not kernels). */
  async readFile(entry: IsoEntry, maxBytes: number): Promise<Uint8Array> {
    if (entry.kind !== 'file') throw new Error(`"${entry.name}" is not a file`);
    if (entry.unreadable) throw new Error(`"${entry.name}" cannot be read: ${entry.unreadable}`);
    if (entry.size > maxBytes) throw new Error(`"${entry.name}" is ${entry.size} bytes, over the ${maxBytes}-byte limit for this read`);
    const parts = await Promise.all(entry.extents.map((extent) => readExactly(this.readAt, this.size, extent.offset, extent.length, `file "${entry.name}"`)));
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  private async resolve(parts: readonly string[], hops: number): Promise<IsoEntry | undefined> {
    if (parts.length > this.limits.maxPathComponents) throw new Error(`path has more than ${this.limits.maxPathComponents} components`);
    const stack: IsoEntry[] = [this.rootEntry];
    for (let index = 0; index < parts.length; index++) {
      const part = parts[index]!;
      if (part === '..') {
        if (stack.length > 1) stack.pop();
        continue;
      }
      const directory = stack[stack.length - 1]!;
      if (directory.kind !== 'directory') return undefined;
      const entries = await this.list(directory);
      const entry = entries.find((candidate) => candidate.name === part) ?? entries.find((candidate) => candidate.name.toLowerCase() === part.toLowerCase());
      if (!entry) return undefined;
      if (entry.kind === 'symlink') {
        if (hops >= this.limits.maxSymlinkHops) throw new Error(`more than ${this.limits.maxSymlinkHops} symbolic links on the way to ${parts.join('/')}`);
        const target = entry.symlink ?? '';
        const base = target.startsWith('/') ? [] : stack.slice(1).map((item) => item.name);
        return this.resolve([...base, ...target.split('/').filter((item) => item !== '' && item !== '.'), ...parts.slice(index + 1)], hops + 1);
      }
      stack.push(entry);
    }
    return stack[stack.length - 1];
  }

  private async systemUseOf(record: DirectoryRecord): Promise<SystemUseFields> {
    const fields = emptySystemUse();
    if (this.namespace !== 'rock-ridge') return fields;
    let continuation = parseSystemUse(record.systemUse, this.suspSkip, fields);
    for (let count = 0; continuation; count++) {
      if (count >= this.limits.maxContinuations) throw new IsoFormatError(`more than ${this.limits.maxContinuations} Rock Ridge continuation areas`, record.offset);
      if (continuation.length > this.info.blockSize) throw new IsoFormatError(`Rock Ridge continuation area of ${continuation.length} bytes is longer than a block`, record.offset);
      const offset = continuation.block * this.info.blockSize + continuation.offset;
      const bytes = await readExactly(this.readAt, this.size, offset, continuation.length, 'a Rock Ridge continuation area');
      continuation = parseSystemUse(new Region(bytes, offset), 0, fields);
    }
    return fields;
  }

  private async entryOf(record: DirectoryRecord, fields: SystemUseFields, extents: Extent[], size: number): Promise<IsoEntry | undefined> {
    // A relocated directory is listed under its real parent (through CL), not under rr_moved.
    if (fields.relocated) return undefined;
    const name = fields.name ?? plainName(record.identifier);
    if (name === '' || name.includes('/') || name === '.' || name === '..') throw new IsoFormatError(`file name "${name}" is not usable`, record.offset);
    if (fields.childLink !== undefined) return this.relocatedDirectory(name, fields.childLink, record);
    if (record.isDirectory) return { name, kind: 'directory', size, extents };
    if (fields.symlink !== undefined || modeKind(fields.mode) === 'symlink') return { name, kind: 'symlink', size: 0, extents: [], symlink: fields.symlink ?? '' };
    const end = Math.max(...extents.map((extent) => extent.offset + extent.length));
    const unreadable = fields.compressed
      ? 'it is zisofs-compressed'
      : record.interleaved
        ? 'it is stored interleaved'
        : end > this.size
          ? `it ends at byte ${end}, past the end of the ${this.size}-byte image file`
          : undefined;
    return { name, kind: 'file', size, extents, ...(unreadable && { unreadable }) };
  }

  /** CL: the directory lives elsewhere; its "." record tells its size. */
  private async relocatedDirectory(name: string, block: number, record: DirectoryRecord): Promise<IsoEntry> {
    const offset = block * this.info.blockSize;
    const bytes = await readExactly(this.readAt, this.size, offset, Math.min(DESCRIPTOR_SIZE, Math.max(0, this.size - offset)), `relocated directory "${name}"`);
    const dot = parseDirectory(new Region(bytes, offset), 'ascii')[0];
    if (!dot || dot.identifier !== '.' || !dot.isDirectory) throw new IsoFormatError(`Rock Ridge child link of "${name}" does not point at a directory`, record.offset);
    return { name, kind: 'directory', size: dot.dataLength, extents: [{ offset, length: dot.dataLength }] };
  }

  private remember(offset: number, entries: IsoEntry[]): void {
    this.cache.set(offset, entries);
    this.cachedEntries += entries.length;
    for (const [key, value] of this.cache) {
      if (this.cachedEntries <= this.limits.maxCachedEntries || key === offset) break;
      this.cache.delete(key);
      this.cachedEntries -= value.length;
    }
  }
}

async function readExactly(readAt: ReadAt, size: number, offset: number, length: number, what: string): Promise<Uint8Array> {
  if (offset + length > size) throw new IsoFormatError(`${what} (${length} bytes) ends past the end of the ${size}-byte image`, offset);
  const bytes = await readAt(offset, length);
  if (bytes.length < length) throw new IsoFormatError(`${what}: read ${bytes.length} of ${length} bytes`, offset);
  return bytes;
}
