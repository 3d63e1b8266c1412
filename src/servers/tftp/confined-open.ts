/**
 * The disk half of confinement: a relative path (already checked lexically by normalizeRequestPath) is
 * resolved through every symlink, checked against the root's own real path, opened without following a
 * final symlink, and checked once more by what the open descriptor really is, so a symlink swapped in
 * between the check and the open cannot lead outside the root either.
 */
import { constants } from 'node:fs';
import { open, readlink, realpath, type FileHandle } from 'node:fs/promises';
import { join, sep } from 'node:path';

export type OpenResult =
  | { readonly kind: 'file'; readonly handle: FileHandle; readonly size: number }
  | { readonly kind: 'missing' }
  | { readonly kind: 'refused'; readonly reason: string };

// O_NONBLOCK: opening a FIFO someone left in the root must not hang a libuv worker thread.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;

export function isInside(rootReal: string, candidate: string): boolean {
  if (candidate === rootReal) return true;
  const prefix = rootReal.endsWith(sep) ? rootReal : rootReal + sep;
  return candidate.startsWith(prefix);
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

/** `rootReal` must itself be a real path (no symlinks), as `realpath(root)` returns. */
export async function openConfined(rootReal: string, relativePath: string): Promise<OpenResult> {
  let real: string;
  try {
    real = await realpath(join(rootReal, relativePath));
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing' };
    if (code === 'ELOOP') return { kind: 'refused', reason: 'symlink loop' };
    if (code === 'EACCES') return { kind: 'refused', reason: 'permission denied' };
    return { kind: 'refused', reason: `cannot resolve (${code ?? String(error)})` };
  }
  if (!isInside(rootReal, real)) return { kind: 'refused', reason: 'resolves outside the root' };
  return openRegular(real, rootReal);
}

/**
 * Opens a regular file. With `rootReal`, the open descriptor must still point inside it. Used without a
 * root for paths the boot core chose itself.
 */
export async function openRegular(path: string, rootReal?: string): Promise<OpenResult> {
  let handle: FileHandle;
  try {
    handle = await open(path, OPEN_FLAGS);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing' };
    if (code === 'ELOOP') return { kind: 'refused', reason: 'symlink swapped in after the check' };
    if (code === 'EACCES' || code === 'EPERM') return { kind: 'refused', reason: 'permission denied' };
    return { kind: 'refused', reason: `cannot open (${code ?? String(error)})` };
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) {
      await handle.close();
      return { kind: 'refused', reason: stats.isDirectory() ? 'is a directory' : 'not a regular file' };
    }
    if (rootReal !== undefined) {
      const opened = await descriptorPath(handle.fd);
      if (opened !== undefined && !isInside(rootReal, opened)) {
        await handle.close();
        return { kind: 'refused', reason: 'opened file lies outside the root' };
      }
    }
    return { kind: 'file', handle, size: stats.size };
  } catch (error) {
    await handle.close().catch(() => undefined);
    return { kind: 'refused', reason: `cannot read (${errorCode(error) ?? String(error)})` };
  }
}

/** What an open descriptor refers to, where the platform tells (Linux /proc); undefined elsewhere. */
async function descriptorPath(fd: number): Promise<string | undefined> {
  try {
    return await readlink(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
}
