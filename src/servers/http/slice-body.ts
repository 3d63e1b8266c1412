/**
 * Files that are byte ranges of a bigger file: a file inside an ISO image is a list of extents of the
 * image. A request's span of the file maps onto those ranges; contiguous ones (the usual case, even for
 * multi-extent files past 4 GiB) merge into one range, sent with sendfile like any file; scattered ones
 * are read piece by piece into the response.
 */
import { openConfined, type ConfinedFile } from '../files/confined-open.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { fileBody, READ_CHUNK_BYTES, sendFile, streamBody, type BodySpan } from './file-response.js';
import type { TransferMeter } from './transfer-meter.js';

export interface SlicePiece {
  readonly offset: number;
  readonly length: number;
}

export interface FileSlice {
  /** The file holding the bytes (an ISO image), opened through confinement like every served file. */
  readonly file: ConfinedFile;
  /** The name the client sees (content type, events). */
  readonly name: string;
  /** The file's bytes, in order, as ranges of `file`. */
  readonly pieces: readonly SlicePiece[];
  readonly size: number;
  /** What `file` looked like when the pieces were read from it: if it changed since, they are stale. */
  readonly image: { readonly size: number; readonly mtimeMs: number };
}

export type SliceAnswer =
  | { readonly kind: 'slice'; readonly slice: FileSlice }
  | { readonly kind: 'missing' }
  | { readonly kind: 'refused'; readonly status: number; readonly reason: string };

/** The ranges of the underlying file that hold bytes [start, end] (inclusive) of the slice, merged where contiguous. */
export function underlyingRanges(pieces: readonly SlicePiece[], start: number, end: number): SlicePiece[] {
  const ranges: SlicePiece[] = [];
  let position = 0;
  for (const piece of pieces) {
    const from = Math.max(start, position);
    const to = Math.min(end + 1, position + piece.length);
    if (from < to) {
      const offset = piece.offset + (from - position);
      const last = ranges[ranges.length - 1];
      if (last && last.offset + last.length === offset) ranges[ranges.length - 1] = { offset: last.offset, length: last.length + (to - from) };
      else ranges.push({ offset, length: to - from });
    }
    position += piece.length;
    if (position > end) break;
  }
  return ranges;
}

async function* readRanges(handle: FileHandle, ranges: readonly SlicePiece[]): AsyncGenerator<Buffer> {
  for (const range of ranges) {
    for (let done = 0; done < range.length; ) {
      const length = Math.min(READ_CHUNK_BYTES, range.length - done);
      const buffer = Buffer.allocUnsafe(length);
      const { bytesRead } = await handle.read(buffer, 0, length, range.offset + done);
      if (bytesRead === 0) throw new Error(`the image ends at ${range.offset + done}, inside a file it holds`);
      done += bytesRead;
      yield buffer.subarray(0, bytesRead);
    }
  }
}

/** Sends bytes `span` of the slice from the open underlying file; settles when done or failed (reported through the meter). */
export async function sliceBody(res: ServerResponse, handle: FileHandle, slice: FileSlice, span: BodySpan, meter: TransferMeter, zeroCopy = true): Promise<void> {
  const ranges = underlyingRanges(slice.pieces, span.start, span.end);
  if (ranges.length === 1) {
    const [range] = ranges as [SlicePiece];
    await fileBody(res, handle, { start: range.offset, end: range.offset + range.length - 1, length: range.length }, meter, zeroCopy);
    return;
  }
  await streamBody(Readable.from(readRanges(handle, ranges), { objectMode: false }), res, meter);
}

/**
 * Answers a request for a slice: a refusal to send (not there, not openable, the image changed since its
 * extents were read), or the file sent with validators and Range like any other, from the open image.
 */
export async function sendSlice(
  req: IncomingMessage,
  res: ServerResponse,
  answer: SliceAnswer,
  meterFor: (span: BodySpan) => TransferMeter,
  zeroCopy: boolean,
): Promise<{ readonly status: number; readonly reason: string } | { readonly reason?: string }> {
  if (answer.kind === 'missing') return { status: 404, reason: 'not found in any ISO' };
  if (answer.kind === 'refused') return answer;
  const { slice } = answer;
  const opened = await openConfined(slice.file);
  if (opened.kind === 'refused') return { status: 403, reason: `${slice.file.path}: ${opened.reason}` };
  if (opened.kind !== 'file') return { status: 503, reason: `${slice.file.path} cannot be opened now` };
  try {
    // The extents were read from the image as it was; a replaced image would send wrong bytes.
    if (opened.stats.size !== slice.image.size || opened.stats.mtimeMs !== slice.image.mtimeMs) return { status: 503, reason: 'the ISO changed on disk since pxedeck read it' };
    const outcome = sendFile(req, res, { size: slice.size, mtimeMs: opened.stats.mtimeMs, name: slice.name }, (span) => sliceBody(res, opened.handle, slice, span, meterFor(span), zeroCopy));
    await outcome.streaming;
    return outcome.reason ? { reason: outcome.reason } : {};
  } finally {
    await opened.handle.close().catch(() => undefined);
  }
}
