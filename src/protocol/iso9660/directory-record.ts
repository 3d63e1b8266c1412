/**
 * Directory records (ECMA-119 §9.1): one per file or directory, packed into a directory's extent, never
 * crossing a logical sector (a zero length byte means "the rest of this sector is padding").
 */
import { asciiField, Region, ucs2beField } from './format.js';

export const FLAG_HIDDEN = 0x01;
export const FLAG_DIRECTORY = 0x02;
/** Set on every record of a multi-extent file but its last (files of 4 GiB and more). */
export const FLAG_MULTI_EXTENT = 0x80;

export interface DirectoryRecord {
  /** Image offset of the record itself (for error messages). */
  readonly offset: number;
  /** "." and ".." for the self and parent records; otherwise the raw identifier decoded. */
  readonly identifier: string;
  readonly isDirectory: boolean;
  readonly isMultiExtent: boolean;
  /** Logical block of the extent, after the extended attribute record. */
  readonly block: number;
  readonly dataLength: number;
  /** File unit size: non-zero for interleaved files, which are not served. */
  readonly interleaved: boolean;
  /** The System Use area (Rock Ridge lives here). */
  readonly systemUse: Region;
}

export type NameEncoding = 'ascii' | 'ucs2';

/** Parses the record at `at` in `region` (its length byte is already known to be non-zero). */
export function parseDirectoryRecord(region: Region, at: number, encoding: NameEncoding): DirectoryRecord {
  const length = region.u8(at, 'directory record length');
  if (length < 34) region.fail(`directory record length ${length} is below the 34-byte minimum`, at);
  const record = region.sub(at, length, 'directory record');
  const extendedAttributes = record.u8(1, 'extended attribute length');
  const nameLength = record.u8(32, 'file identifier length');
  if (nameLength === 0) record.fail('file identifier is empty', 32);
  const nameBytes = record.slice(33, nameLength, 'file identifier');
  const flags = record.u8(25, 'file flags');
  let identifier: string;
  if (nameLength === 1 && nameBytes[0] === 0) identifier = '.';
  else if (nameLength === 1 && nameBytes[0] === 1) identifier = '..';
  else identifier = encoding === 'ucs2' ? ucs2beField(nameBytes) : asciiField(nameBytes);
  const systemUseStart = 33 + nameLength + (nameLength % 2 === 0 ? 1 : 0);
  return {
    offset: record.base,
    identifier,
    isDirectory: (flags & FLAG_DIRECTORY) !== 0,
    isMultiExtent: (flags & FLAG_MULTI_EXTENT) !== 0,
    block: record.u32le(2, 'extent location') + extendedAttributes,
    dataLength: record.u32le(10, 'data length'),
    interleaved: record.u8(26, 'file unit size') !== 0 || record.u8(27, 'interleave gap size') !== 0,
    systemUse: systemUseStart < length ? record.sub(systemUseStart, length - systemUseStart, 'system use area') : record.sub(length, 0, 'system use area'),
  };
}

/**
 * Every record in a directory's extent, in order. `sectorSize` is 2048: records never cross a sector, and
 * a zero length byte pads to the next one.
 */
export function parseDirectory(region: Region, encoding: NameEncoding, sectorSize = 2048): DirectoryRecord[] {
  const records: DirectoryRecord[] = [];
  let at = 0;
  while (at < region.length) {
    const length = region.u8(at, 'directory record length');
    if (length === 0) {
      at = (Math.floor(at / sectorSize) + 1) * sectorSize;
      continue;
    }
    if (Math.floor(at / sectorSize) !== Math.floor((at + length - 1) / sectorSize)) region.fail(`directory record of ${length} bytes crosses a sector boundary`, at);
    records.push(parseDirectoryRecord(region, at, encoding));
    at += length;
  }
  return records;
}

/** "VMLINUZ.;1" → "VMLINUZ", "INITRD.GZ;1" → "INITRD.GZ": the version and an empty extension go. */
export function plainName(identifier: string): string {
  const withoutVersion = identifier.replace(/;\d*$/, '');
  return withoutVersion.endsWith('.') ? withoutVersion.slice(0, -1) : withoutVersion;
}
