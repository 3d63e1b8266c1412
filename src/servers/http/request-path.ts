/**
 * The lexical half of confinement for HTTP: a raw request path becomes decoded segments, or a reason to
 * refuse it. Nothing here touches the disk; servers/files/confined-open.ts resolves symlinks against the real root.
 *
 * Every segment is percent-decoded exactly once. A segment that still decodes to something dangerous a
 * second time (`%252e%252e`) is refused too: some other layer (a proxy, a firmware's URI code) may decode
 * again, and no boot file has such a name.
 */
export type PathResult =
  | { readonly kind: 'ok'; readonly segments: readonly string[] }
  | { readonly kind: 'invalid'; readonly reason: string };

/** Bounded so a hostile client cannot make us split and decode megabytes. */
export const MAX_PATH_LENGTH = 4096;

// Control characters (NUL included) and backslashes never belong in a boot file's path.
const FORBIDDEN = /[\u0000-\u001f\u007f\\]/;

function decodeOnce(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

function segmentProblem(decoded: string): string | undefined {
  if (decoded === '..' || decoded === '.') return 'dot segment';
  if (decoded.includes('/')) return 'encoded slash';
  if (FORBIDDEN.test(decoded)) return decoded.includes('\\') ? 'backslash' : 'control character';
  return undefined;
}

/** Splits and decodes the path part of a request target (`/a/b%20c` → ['a', 'b c']); '/' gives []. */
export function decodeRequestPath(rawPath: string): PathResult {
  if (rawPath.length > MAX_PATH_LENGTH) return { kind: 'invalid', reason: 'path too long' };
  if (!rawPath.startsWith('/')) return { kind: 'invalid', reason: 'path does not start with /' };
  if (rawPath.includes('\\')) return { kind: 'invalid', reason: 'backslash' };
  if (rawPath === '/') return { kind: 'ok', segments: [] };
  const rawSegments = rawPath.slice(1).split('/');
  // A trailing slash names a directory: there are no listings, but let the root decide it is missing.
  if (rawSegments.length > 1 && rawSegments.at(-1) === '') rawSegments.pop();
  const segments: string[] = [];
  for (const raw of rawSegments) {
    if (raw === '') return { kind: 'invalid', reason: 'empty segment' };
    const decoded = decodeOnce(raw);
    if (decoded === null) return { kind: 'invalid', reason: 'malformed percent-encoding' };
    const problem = segmentProblem(decoded);
    if (problem) return { kind: 'invalid', reason: problem };
    if (decoded.includes('%')) {
      const again = decodeOnce(decoded);
      const second = again === null ? undefined : segmentProblem(again);
      if (second) return { kind: 'invalid', reason: `double-encoded ${second}` };
    }
    segments.push(decoded);
  }
  return { kind: 'ok', segments };
}

/** Splits a configured URL prefix (`/files`, `/boot/`, `/`) into segments. */
export function prefixSegments(prefix: string): readonly string[] {
  return prefix.split('/').filter((segment) => segment !== '');
}

/** The rest of `segments` after `prefix`, or null when the path is not under it. */
export function stripPrefix(segments: readonly string[], prefix: readonly string[]): readonly string[] | null {
  if (segments.length < prefix.length) return null;
  for (let i = 0; i < prefix.length; i++) if (segments[i] !== prefix[i]) return null;
  return segments.slice(prefix.length);
}
