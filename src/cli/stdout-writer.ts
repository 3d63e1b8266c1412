/**
 * What headless stdout's two writers share (ordered-file-writer.ts for a regular file,
 * bounded-stream-writer.ts for a terminal, a pipe or a socket): the same calls, the same bound on what may
 * wait for the destination, and the same notice where lines past it were dropped.
 */
import { warningLine } from '../state/event-log.js';

export interface StdoutWriter {
  write(chunk: Uint8Array): void;
  /** Resolves when everything written so far has been taken by the destination. */
  settled(): Promise<void>;
}

/** Bytes that may wait for the destination; past it lines are dropped and counted. */
export const MAX_PENDING_STDOUT_BYTES = 16 * 1024 * 1024;

/** The notice put where `bytes` of lines were dropped; `slow` names what did not keep up. */
export function stdoutLossNotice(bytes: number, slow: 'the file' | 'the reader'): Buffer {
  return warningLine(`stdout: ${bytes} bytes of events were not written (${slow} did not keep up)`);
}
