/**
 * ISO images built in tests with xorriso (Debian package xorriso), from a small description of their files.
 * Each image lives in a temp dir of its own; `remove()` deletes it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, openSync, ftruncateSync, closeSync, writeSync, renameSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ReadAt } from '../../src/protocol/iso9660/image.js';
import { shellWord } from './shell-quote.js';

export type IsoFileSpec = string | Uint8Array | { readonly symlink: string } | { readonly sparseBytes: number; readonly tail?: string } | { readonly copyOf: string };

export interface BuiltIso {
  readonly path: string;
  readonly dir: string;
  remove(): void;
}

/**
 * An image holding one file of 4.4 GiB (zeros, then `LARGE_FILE_TAIL` in its last bytes) and a small file
 * after it: sparse on disk, built once into .cache/iso/ (xorriso still reads and writes every byte: ~30 s).
 */
export const LARGE_FILE_BYTES = 4500 * 2 ** 20;
export const LARGE_FILE_TAIL = 'the last bytes of a file past 4 GiB\n';

export function largeFileIso(cacheDir: string): string {
  const path = join(cacheDir, 'iso', 'large-4500m.iso');
  if (existsSync(path)) return path;
  mkdirSync(dirname(path), { recursive: true });
  const built = buildIso({ 'huge.img': { sparseBytes: LARGE_FILE_BYTES, tail: LARGE_FILE_TAIL }, 'after.txt': 'after the huge file\n' }, { flags: ['-R', '-J', '-iso-level', '3'], sparseOutput: true });
  renameSync(built.path, `${path}.tmp`);
  renameSync(`${path}.tmp`, path);
  built.remove();
  return path;
}

export function xorrisoMissing(): string | undefined {
  return existsSync('/usr/bin/xorriso') ? undefined : 'needs xorriso (Debian package xorriso)';
}

/**
 * `flags` are mkisofs-style options (default: Rock Ridge and Joliet). `sparseOutput` pipes the image
 * through `dd conv=sparse`, so an image holding gigabytes of zeros takes no disk space.
 */
export function buildIso(files: Readonly<Record<string, IsoFileSpec>>, options: { flags?: readonly string[]; volumeId?: string; sparseOutput?: boolean; name?: string } = {}): BuiltIso {
  const dir = mkdtempSync(join(tmpdir(), 'pxedeck-iso-'));
  const tree = join(dir, 'tree');
  mkdirSync(tree);
  for (const [path, spec] of Object.entries(files)) {
    const target = join(tree, path);
    mkdirSync(dirname(target), { recursive: true });
    if (path.endsWith('/')) continue;
    if (typeof spec === 'string' || spec instanceof Uint8Array) writeFileSync(target, spec);
    else if ('symlink' in spec) symlinkSync(spec.symlink, target);
    else if ('copyOf' in spec) execFileSync('cp', [spec.copyOf, target]);
    else {
      const fd = openSync(target, 'w');
      ftruncateSync(fd, spec.sparseBytes);
      if (spec.tail) writeSync(fd, spec.tail, spec.sparseBytes - Buffer.byteLength(spec.tail));
      closeSync(fd);
    }
  }
  const path = join(dir, options.name ?? 'image.iso');
  const args = ['-as', 'mkisofs', ...(options.flags ?? ['-R', '-J', '-joliet-long']), '-V', options.volumeId ?? 'PXEDECK_TEST', '-quiet'];
  if (options.sparseOutput) {
    execFileSync('sh', ['-c', `xorriso ${args.map(shellWord).join(' ')} -o - ${shellWord(tree)} | dd of=${shellWord(path)} bs=1M conv=sparse status=none`], { stdio: ['ignore', 'ignore', 'pipe'] });
  } else {
    execFileSync('xorriso', [...args, '-o', path, tree], { stdio: ['ignore', 'ignore', 'pipe'] });
  }
  rmSync(tree, { recursive: true, force: true });
  return { path, dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A ReadAt over a file, with the handle to close. */
export async function fileReader(path: string): Promise<{ readAt: ReadAt; size: number; close(): Promise<void> }> {
  const handle = await open(path);
  const size = (await handle.stat()).size;
  return {
    size,
    readAt: async (offset, length) => {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, offset);
      return buffer.subarray(0, bytesRead);
    },
    close: () => handle.close(),
  };
}

/** A ReadAt over bytes in memory (for malformed images made by editing a good one). */
export function bufferReader(bytes: Uint8Array): ReadAt {
  return async (offset, length) => bytes.subarray(offset, Math.min(bytes.length, offset + length));
}
