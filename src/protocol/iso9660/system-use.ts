/**
 * The System Use Sharing Protocol (SUSP, IEEE P1281) and the Rock Ridge entries on it (RRIP, IEEE P1282):
 * POSIX names (NM), modes (PX), symbolic links (SL), deep-directory relocation (CL, RE), continuation
 * areas (CE) and zisofs compression (ZF, whose files cannot be served as stored bytes).
 */
import { Region, utf8Field } from './format.js';

export interface Continuation {
  readonly block: number;
  readonly offset: number;
  readonly length: number;
}

/** What the System Use entries of one directory record say, accumulated across continuation areas. */
export interface SystemUseFields {
  /** SP (root "." only): SUSP is in use; every other area skips this many bytes first. */
  susp?: { readonly skip: number };
  /** Any Rock Ridge entry was seen. */
  rockRidge: boolean;
  name?: string;
  /** NM with the CURRENT/PARENT flag: the record names "." or "..". */
  nameIsAlias?: boolean;
  mode?: number;
  symlink?: string;
  /** CL: this file record stands for a directory relocated to this block. */
  childLink?: number;
  /** RE: this directory was relocated here and is listed under its real parent instead. */
  relocated: boolean;
  /** ZF: the file's bytes are zisofs-compressed. */
  compressed: boolean;
  /** SL component state between SL entries of one record. */
  symlinkOpen?: boolean;
}

export function emptySystemUse(): SystemUseFields {
  return { rockRidge: false, relocated: false, compressed: false };
}

const NM_CURRENT = 2;
const NM_PARENT = 4;
const SL_CONTINUE = 1;
const SL_CURRENT = 2;
const SL_PARENT = 4;
const SL_ROOT = 8;

const ROCK_RIDGE_SIGNATURES = new Set(['RR', 'PX', 'PN', 'SL', 'NM', 'CL', 'PL', 'RE', 'TF', 'SF', 'ZF']);

function appendSymlink(fields: SystemUseFields, entry: Region): void {
  const entryFlags = entry.u8(4, 'SL flags');
  let target = fields.symlink ?? '';
  let at = 5;
  while (at < entry.length) {
    const flags = entry.u8(at, 'SL component flags');
    const length = entry.u8(at + 1, 'SL component length');
    const content = entry.slice(at + 2, length, 'SL component');
    const text = flags & SL_ROOT ? '' : flags & SL_CURRENT ? '.' : flags & SL_PARENT ? '..' : utf8Field(content);
    // A component continued from the previous one joins it without a slash.
    if (target === '' && flags & SL_ROOT) target = '/';
    else if (fields.symlinkOpen) target += text;
    else target += (target === '' || target.endsWith('/') ? '' : '/') + text;
    fields.symlinkOpen = (flags & SL_CONTINUE) !== 0;
    at += 2 + length;
  }
  fields.symlink = target;
  // Without CONTINUE on the entry, the next SL entry (if any) starts a fresh component.
  if (!(entryFlags & SL_CONTINUE)) fields.symlinkOpen = false;
}

/**
 * Folds the entries of one System Use area (or continuation area) into `fields`. Returns the
 * continuation area the entries point to, if any. `skip` bytes at the start belong to someone else.
 */
export function parseSystemUse(area: Region, skip: number, fields: SystemUseFields): Continuation | undefined {
  let continuation: Continuation | undefined;
  let at = skip;
  // Fewer than 4 bytes left is padding (an entry header alone is 4 bytes).
  while (at + 4 <= area.length) {
    const signature = String.fromCharCode(area.u8(at, 'SUSP signature'), area.u8(at + 1, 'SUSP signature'));
    const length = area.u8(at + 2, 'SUSP entry length');
    if (signature === '\0\0') break;
    if (length < 4) area.fail(`SUSP entry "${signature}" has length ${length}`, at + 2);
    const entry = area.sub(at, length, `SUSP entry "${signature}"`);
    if (ROCK_RIDGE_SIGNATURES.has(signature)) fields.rockRidge = true;
    switch (signature) {
      case 'SP':
        if (entry.u8(4, 'SP check byte') !== 0xbe || entry.u8(5, 'SP check byte') !== 0xef) entry.fail('SP entry check bytes are not BE EF', 4);
        fields.susp = { skip: entry.u8(6, 'SP skip length') };
        break;
      case 'CE':
        continuation = { block: entry.u32le(4, 'CE block'), offset: entry.u32le(12, 'CE offset'), length: entry.u32le(20, 'CE length') };
        break;
      case 'ST':
        return continuation;
      case 'NM': {
        const flags = entry.u8(4, 'NM flags');
        if (flags & (NM_CURRENT | NM_PARENT)) fields.nameIsAlias = true;
        // A long name comes in several NM entries (CONTINUE set on all but the last): they concatenate.
        else fields.name = (fields.name ?? '') + utf8Field(entry.slice(5, length - 5, 'NM name'));
        break;
      }
      case 'PX':
        fields.mode = entry.u32le(4, 'PX mode');
        break;
      case 'SL':
        appendSymlink(fields, entry);
        break;
      case 'CL':
        fields.childLink = entry.u32le(4, 'CL block');
        break;
      case 'RE':
        fields.relocated = true;
        break;
      case 'ZF':
        fields.compressed = true;
        break;
    }
    at += length;
  }
  return continuation;
}

/** S_IFMT bits of a PX mode. */
export function modeKind(mode: number | undefined): 'file' | 'directory' | 'symlink' | 'other' | undefined {
  if (mode === undefined) return undefined;
  switch (mode & 0o170000) {
    case 0o100000:
      return 'file';
    case 0o040000:
      return 'directory';
    case 0o120000:
      return 'symlink';
    default:
      return 'other';
  }
}
