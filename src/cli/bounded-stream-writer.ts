/**
 * Headless stdout when it is a pipe or a socket (`pxedeck --headless | jq`, journald): Node writes those
 * asynchronously and keeps whatever the reader has not taken yet in memory, without a limit. A reader that
 * stops (a pager left open, a stuck log shipper) would grow the server by every event from then on. Past
 * the bound, lines are dropped and counted, and once the reader catches up a notice says how many bytes
 * were lost, in the place they were lost — the same rule as for a file (ordered-file-writer.ts).
 */
import type { Writable } from 'node:stream';
import { MAX_PENDING_STDOUT_BYTES, stdoutLossNotice, type StdoutWriter } from './stdout-writer.js';

/**
 * `settled` resolves when the stream has taken everything written so far, or after `timeoutMs`: a reader
 * that never reads again must not keep the server from stopping.
 */
export interface BoundedStreamWriter extends StdoutWriter {
  settled(timeoutMs?: number): Promise<void>;
}

export function openBoundedStreamWriter(stream: Writable, maxPendingBytes = MAX_PENDING_STDOUT_BYTES): BoundedStreamWriter {
  let droppedBytes = 0;
  return {
    write(chunk) {
      if (stream.writableLength + chunk.length > maxPendingBytes) {
        droppedBytes += chunk.length;
        return;
      }
      if (droppedBytes > 0) {
        stream.write(stdoutLossNotice(droppedBytes, 'the reader'));
        droppedBytes = 0;
      }
      stream.write(chunk);
    },
    settled(timeoutMs = 2000) {
      if (stream.writableLength === 0 || stream.destroyed) return Promise.resolve();
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          stream.off('drain', done);
          stream.off('close', done);
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        stream.once('drain', done);
        stream.once('close', done);
      });
    },
  };
}
