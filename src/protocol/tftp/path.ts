/**
 * Turns the file name of a request into a relative path under the TFTP root, or a refusal with its reason.
 * This is the lexical half of confinement; the server adds the other half (symlinks resolved, then
 * checked against the root) because only it can look at the disk.
 */

export type AbsolutePathPolicy = 'refuse' | 'root-relative';

export type RequestPath =
  | { readonly ok: true; readonly path: string }
  | { readonly ok: false; readonly reason: string };

export interface RequestPathOptions {
  /**
   * 'refuse' (default): `/x` is refused. 'root-relative': `/x` means `<root>/x`, as under tftpd-hpa's
   * `--secure`; GRUB and Windows boot loaders (`\Boot\BCD`) ask that way.
   */
  readonly absolutePaths?: AbsolutePathPolicy;
  readonly maxLength?: number;
}

const PERCENT_ESCAPE = /%[0-9a-f]{2}/i;
const CONTROL = /[\u0000-\u001f\u007f]/;
const DRIVE = /^[a-z]:/i;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function refuse(reason: string): RequestPath {
  return { ok: false, reason };
}

/** `name` is the request's file name as decoded by the codec: one character per byte. */
export function normalizeRequestPath(name: string, options: RequestPathOptions = {}): RequestPath {
  const maxLength = options.maxLength ?? 1024;
  if (name.length === 0) return refuse('empty file name');
  if (name.length > maxLength) return refuse(`file name longer than ${maxLength} bytes`);
  let text: string;
  try {
    text = utf8.decode(Buffer.from(name, 'latin1'));
  } catch {
    return refuse('file name is not valid UTF-8');
  }
  if (text.includes('\u0000')) return refuse('NUL byte in file name');
  if (PERCENT_ESCAPE.test(text)) return refuse('percent-encoded file name');
  if (CONTROL.test(text)) return refuse('control character in file name');
  // Windows boot loaders send `\Boot\BCD`; map first so every check below sees one separator.
  const slashed = text.replace(/\\/g, '/');
  if (DRIVE.test(slashed)) return refuse('absolute path (drive letter)');
  let relative = slashed;
  if (slashed.startsWith('/')) {
    if ((options.absolutePaths ?? 'refuse') === 'refuse') return refuse('absolute path');
    relative = slashed.replace(/^\/+/, '');
  }
  const segments: string[] = [];
  for (const segment of relative.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') return refuse('parent directory (..) in file name');
    segments.push(segment);
  }
  if (segments.length === 0) return refuse('file name names no file');
  return { ok: true, path: segments.join('/') };
}
