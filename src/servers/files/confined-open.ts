/**
 * The disk half of confinement, the one path every file served by TFTP and HTTP takes: a request path
 * (already checked lexically by each protocol's own parser), or a file the server named itself (a catalog
 * entry, quick mode's kernel, a cache entry: a `ConfinedFile`), is joined under its root, resolved through
 * every symlink and checked against the root's real path, opened without following a final symlink, and
 * the open descriptor checked once more (Linux /proc), so a symlink swapped in between check and open
 * cannot lead outside either. Only regular files are served; a FIFO must not hang a worker thread
 * (O_NONBLOCK). Symlinks that stay inside the root keep working (netboot tarballs are full of them).
 */
import { constants, type Stats } from 'node:fs';
import { open, readlink, realpath, type FileHandle } from 'node:fs/promises';
import { join, sep } from 'node:path';

export type OpenedFile =
  | { readonly kind: 'file'; readonly handle: FileHandle; readonly stats: Stats; readonly path: string }
  | { readonly kind: 'missing' }
  /** Each protocol words this its own way: HTTP answers 404, TFTP an access violation. */
  | { readonly kind: 'directory' }
  | { readonly kind: 'refused'; readonly reason: string };

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;

export function isInside(rootReal: string, candidate: string): boolean {
  if (candidate === rootReal) return true;
  return candidate.startsWith(rootReal.endsWith(sep) ? rootReal : rootReal + sep);
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

function openFailure(error: unknown, verb: string): OpenedFile {
  const code = errorCode(error);
  if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG') return { kind: 'missing' };
  if (code === 'ELOOP') return { kind: 'refused', reason: 'symlink loop or symlink swapped in' };
  if (code === 'EACCES' || code === 'EPERM') return { kind: 'refused', reason: 'permission denied' };
  return { kind: 'refused', reason: `cannot ${verb} (${code ?? String(error)})` };
}

/** `rootReal` must be a real path (as `realpath(root)` returns); the path already passed the protocol's own checks. */
export async function openInRoot(rootReal: string, path: string | readonly string[]): Promise<OpenedFile> {
  let real: string;
  try {
    real = await realpath(join(rootReal, ...(typeof path === 'string' ? [path] : path)));
  } catch (error) {
    return openFailure(error, 'resolve');
  }
  if (!isInside(rootReal, real)) return { kind: 'refused', reason: 'resolves outside the root' };
  return openRegularFile(real, rootReal);
}

/** A file served by name (a catalog entry, a local file, a cache entry): `path` under `root`, and only while it resolves inside. */
export interface ConfinedFile {
  /** The directory that confines it (need not be a real path). */
  readonly root: string;
  /** Relative to `root`. */
  readonly path: string;
}

/** The root's real path is read on every open: a boot directory replaced by a link later confines to its new target, never to the old one. */
export async function openConfined(file: ConfinedFile): Promise<OpenedFile> {
  let rootReal: string;
  try {
    rootReal = await realpath(file.root);
  } catch (error) {
    return openFailure(error, 'resolve');
  }
  return openInRoot(rootReal, file.path);
}

/** Opens a regular file that must stay inside `rootReal`. */
async function openRegularFile(path: string, rootReal: string): Promise<OpenedFile> {
  let handle: FileHandle;
  try {
    handle = await open(path, OPEN_FLAGS);
  } catch (error) {
    return openFailure(error, 'open');
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) {
      await handle.close();
      return stats.isDirectory() ? { kind: 'directory' } : { kind: 'refused', reason: 'not a regular file' };
    }
    const opened = await descriptorPath(handle.fd);
    if (opened !== undefined && !isInside(rootReal, opened)) {
      await handle.close();
      return { kind: 'refused', reason: 'opened file lies outside the root' };
    }
    return { kind: 'file', handle, stats, path };
  } catch (error) {
    await handle.close().catch(() => undefined);
    return openFailure(error, 'read');
  }
}

async function descriptorPath(fd: number): Promise<string | undefined> {
  try {
    return await readlink(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
}
