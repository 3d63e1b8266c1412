/**
 * What a read request is served from: content the boot core produced for the path, a file or a byte range
 * of an image it named, or else the first root that holds the path; every file opened through the
 * confinement of the directory it is served from.
 */
import type { FileHandle } from 'node:fs/promises';
import { realpath } from 'node:fs/promises';
import type { Mac } from '../../protocol/mac.js';
import { openConfined, openInRoot, type ConfinedFile, type OpenedFile } from '../files/confined-open.js';
import type { SourceSpec } from './run-transfer.js';

export interface TftpClient {
  readonly address: string;
  readonly port: number;
  readonly mac?: Mac;
}

/**
 * What the boot core answers for a requested path: content to serve (a string is sent as UTF-8), a file
 * it named itself (a catalog entry, quick mode's kernel: opened through the same confinement as any
 * request, inside its own root), or nothing (null/undefined: look in the roots).
 */
export type VirtualFile = Buffer | string | ConfinedFile | FileSpan | OptionalAbsence | null | undefined;

/**
 * A file that is one byte range of another (a file inside an ISO image, its extents contiguous), sent
 * straight from that range. `image` is what the outer file looked like when the range was read from it:
 * if it changed since, the range is stale and the request refused.
 */
export interface FileSpan {
  readonly within: ConfinedFile;
  readonly offset: number;
  readonly length: number;
  readonly image: { readonly size: number; readonly mtimeMs: number };
}

/**
 * A file the client looks for in case it is there (shim's `revocations_sbat.efi`, GRUB's `command.lst`):
 * answered "file not found" as any missing file, but reported as benign, so it never reads as a failure.
 */
export interface OptionalAbsence {
  readonly optional: string;
}

export type ResolveVirtual = (path: string, client: TftpClient) => VirtualFile | Promise<VirtualFile>;

/** A request's source: found (with the handle to close once the transfer ends), missing, or refused. */
export type RequestSource =
  | { readonly kind: 'found'; readonly source: SourceSpec; readonly size: number; readonly handle?: FileHandle }
  | { readonly kind: 'missing'; readonly optional?: string }
  | { readonly kind: 'refused'; readonly reason: string };

async function openSpan(span: FileSpan): Promise<RequestSource> {
  const opened = await openConfined(span.within);
  if (opened.kind !== 'file') return fromOpened(opened);
  if (opened.stats.size !== span.image.size || opened.stats.mtimeMs !== span.image.mtimeMs) {
    await opened.handle.close().catch(() => undefined);
    return { kind: 'refused', reason: 'the image it is in changed on disk since it was read' };
  }
  return { kind: 'found', source: { kind: 'fd', fd: opened.handle.fd, size: span.length, offset: span.offset }, size: span.length, handle: opened.handle };
}

function fromOpened(opened: OpenedFile): RequestSource {
  if (opened.kind === 'file') return { kind: 'found', source: { kind: 'fd', fd: opened.handle.fd, size: opened.stats.size }, size: opened.stats.size, handle: opened.handle };
  if (opened.kind === 'directory') return { kind: 'refused', reason: 'is a directory' };
  return opened;
}

function fromMemory(content: Buffer): RequestSource {
  return { kind: 'found', source: { kind: 'memory', content }, size: content.length };
}

/** Opens what `path` (already normalised) is served from; throws only when the boot core fails to produce it. */
export async function openRequestSource(path: string, client: TftpClient, roots: readonly string[], resolveVirtual: ResolveVirtual | undefined): Promise<RequestSource> {
  const virtual = resolveVirtual ? await resolveVirtual(path, client) : undefined;
  if (typeof virtual === 'string') return fromMemory(Buffer.from(virtual, 'utf8'));
  if (Buffer.isBuffer(virtual)) return fromMemory(virtual);
  if (virtual && typeof virtual === 'object' && 'within' in virtual) return openSpan(virtual);
  if (virtual && typeof virtual === 'object') return 'optional' in virtual ? { kind: 'missing', optional: virtual.optional } : fromOpened(await openConfined(virtual));
  for (const root of roots) {
    let rootReal: string;
    try {
      rootReal = await realpath(root);
    } catch {
      continue;
    }
    const result = await openInRoot(rootReal, path);
    if (result.kind !== 'missing') return fromOpened(result);
  }
  return { kind: 'missing' };
}
