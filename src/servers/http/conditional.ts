/**
 * HTTP validators and ranges for one file (RFC 9110 §8.8, §13, §14), as pure decisions: the responder
 * asks what to send and gets a status with the byte span, never a half-applied header set.
 */
export interface FileIdentity {
  readonly size: number;
  readonly mtimeMs: number;
}

export interface RequestConditions {
  readonly method: string;
  readonly range?: string;
  readonly ifRange?: string;
  readonly ifMatch?: string;
  readonly ifNoneMatch?: string;
  readonly ifModifiedSince?: string;
  readonly ifUnmodifiedSince?: string;
}

export type FileDecision =
  | { readonly status: 200; readonly start: 0; readonly end: number }
  | { readonly status: 206; readonly start: number; readonly end: number }
  | { readonly status: 304 }
  | { readonly status: 412 }
  | { readonly status: 416; readonly reason: string };

/** Strong: size and mtime (nanosecond mtimes are cut to ms, which is what a client can compare anyway). */
export function entityTag(file: FileIdentity): string {
  return `"${file.size.toString(16)}-${Math.floor(file.mtimeMs).toString(16)}"`;
}

/** HTTP dates have one-second resolution; compare on whole seconds. */
function lastModifiedSeconds(file: FileIdentity): number {
  return Math.floor(file.mtimeMs / 1000);
}

export function lastModified(file: FileIdentity): string {
  return new Date(lastModifiedSeconds(file) * 1000).toUTCString();
}

function parseHttpDate(text: string): number | undefined {
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

function tagList(header: string): string[] {
  return header.split(',').map((tag) => tag.trim()).filter((tag) => tag !== '');
}

/** Weak comparison (If-None-Match): W/ prefixes ignored. */
function weakMatch(header: string, tag: string): boolean {
  const bare = tag.replace(/^W\//, '');
  return tagList(header).some((candidate) => candidate === '*' || candidate.replace(/^W\//, '') === bare);
}

/** Strong comparison (If-Match, If-Range): weak tags never match. */
function strongMatch(candidate: string, tag: string): boolean {
  return !candidate.startsWith('W/') && candidate === tag;
}

export type ParsedRange =
  | { readonly kind: 'none' }
  | { readonly kind: 'single'; readonly start: number; readonly end: number }
  | { readonly kind: 'multiple' }
  | { readonly kind: 'unsatisfiable'; readonly reason: string };

const RANGE_SPEC = /^(\d*)-(\d*)$/;

/**
 * One `bytes=` range against a size. Other units are ignored (as RFC 9110 allows); a malformed bytes
 * range is refused with 416 as nginx does, so a client with a broken resume hears about it instead of
 * silently getting the whole file again.
 */
export function parseRange(header: string | undefined, size: number): ParsedRange {
  if (header === undefined) return { kind: 'none' };
  const match = /^\s*bytes\s*=\s*(.*)$/i.exec(header);
  if (!match) return { kind: 'none' };
  const specs = match[1]!.split(',').map((spec) => spec.trim()).filter((spec) => spec !== '');
  if (specs.length === 0) return { kind: 'unsatisfiable', reason: 'empty range set' };
  // Several ranges would need multipart/byteranges; no boot client asks for them. Serve the whole file.
  if (specs.length > 1) return { kind: 'multiple' };
  const parts = RANGE_SPEC.exec(specs[0]!);
  if (!parts || (parts[1] === '' && parts[2] === '')) return { kind: 'unsatisfiable', reason: 'malformed range' };
  const [, first, last] = parts as unknown as [string, string, string];
  if (first === '') {
    const suffix = Number(last);
    if (!Number.isSafeInteger(suffix)) return { kind: 'unsatisfiable', reason: 'range out of bounds' };
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable', reason: 'empty suffix range' };
    return { kind: 'single', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (!Number.isSafeInteger(start)) return { kind: 'unsatisfiable', reason: 'range out of bounds' };
  if (start >= size) return { kind: 'unsatisfiable', reason: `range starts at ${start}, file has ${size} bytes` };
  if (last === '') return { kind: 'single', start, end: size - 1 };
  const end = Number(last);
  if (!Number.isSafeInteger(end)) return { kind: 'single', start, end: size - 1 };
  if (end < start) return { kind: 'unsatisfiable', reason: 'range ends before it starts' };
  return { kind: 'single', start, end: Math.min(end, size - 1) };
}

/** If-Range: the range applies only while the validator still names this version of the file. */
function ifRangeHolds(header: string, file: FileIdentity): boolean {
  const value = header.trim();
  if (value.startsWith('"') || value.startsWith('W/')) return strongMatch(value, entityTag(file));
  const date = parseHttpDate(value);
  return date !== undefined && date === lastModifiedSeconds(file);
}

/** The precedence of RFC 9110 §13.2.2: If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since, If-Range. */
export function decide(conditions: RequestConditions, file: FileIdentity): FileDecision {
  const tag = entityTag(file);
  const modified = lastModifiedSeconds(file);
  const isRead = conditions.method === 'GET' || conditions.method === 'HEAD';

  if (conditions.ifMatch !== undefined) {
    const ok = tagList(conditions.ifMatch).some((candidate) => candidate === '*' || strongMatch(candidate, tag));
    if (!ok) return { status: 412 };
  } else if (conditions.ifUnmodifiedSince !== undefined) {
    const date = parseHttpDate(conditions.ifUnmodifiedSince);
    if (date !== undefined && modified > date) return { status: 412 };
  }

  if (conditions.ifNoneMatch !== undefined) {
    if (weakMatch(conditions.ifNoneMatch, tag)) return isRead ? { status: 304 } : { status: 412 };
  } else if (conditions.ifModifiedSince !== undefined && isRead) {
    const date = parseHttpDate(conditions.ifModifiedSince);
    if (date !== undefined && modified <= date) return { status: 304 };
  }

  const whole = { status: 200, start: 0, end: file.size - 1 } as const;
  if (conditions.method !== 'GET' && conditions.method !== 'HEAD') return whole;
  if (conditions.ifRange !== undefined && !ifRangeHolds(conditions.ifRange, file)) return whole;
  const range = parseRange(conditions.range, file.size);
  switch (range.kind) {
    case 'none':
    case 'multiple':
      return whole;
    case 'unsatisfiable':
      return { status: 416, reason: range.reason };
    case 'single':
      return { status: 206, start: range.start, end: range.end };
  }
}
