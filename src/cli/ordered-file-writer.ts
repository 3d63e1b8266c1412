/**
 * Headless stdout when it is a regular file (a log the operator or a service redirected it to): written on
 * libuv's threads, in order, instead of by Node's synchronous file stream. A synchronous write holds the
 * event loop for as long as the kernel takes — usually microseconds, but a disk under writeback pressure or
 * a stalled network filesystem can take tens of milliseconds, and every DHCP answer waits behind it. The
 * queue is bounded: a file that cannot keep up costs lines, counted and told in a notice line once it
 * catches up, never memory or answers.
 */
import { write, writeSync } from 'node:fs';
import { MAX_PENDING_STDOUT_BYTES, stdoutLossNotice, type StdoutWriter } from './stdout-writer.js';

export function openOrderedFileWriter(fd: number, maxPendingBytes = MAX_PENDING_STDOUT_BYTES): StdoutWriter {
  const queue: Uint8Array[] = [];
  let pendingBytes = 0;
  let writing = false;
  let droppedBytes = 0;
  const waiters: Array<() => void> = [];
  let lastError: string | undefined;

  const next = (): void => {
    const chunk = queue.shift();
    if (!chunk) {
      writing = false;
      for (const waiter of waiters.splice(0)) waiter();
      return;
    }
    writing = true;
    let offset = 0;
    const onWritten = (error: NodeJS.ErrnoException | null, written: number): void => {
      if (error) {
        // The file is gone or full: what this chunk held is lost, said on stderr once per kind of failure.
        if (error.message !== lastError) process.stderr.write(`pxedeck: stdout: ${error.message}; events are being lost\n`);
        lastError = error.message;
        written = chunk.length - offset;
      } else if (offset + written >= chunk.length) lastError = undefined;
      offset += written;
      if (offset < chunk.length) return write(fd, chunk, offset, chunk.length - offset, null, onWritten);
      pendingBytes -= chunk.length;
      next();
    };
    write(fd, chunk, 0, chunk.length, null, onWritten);
  };

  const settled = (): Promise<void> => {
    if (!writing && queue.length === 0) {
      if (droppedBytes > 0) writeSync(fd, stdoutLossNotice(droppedBytes, 'the file'));
      droppedBytes = 0;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => waiters.push(() => resolve())).then(settled);
  };

  return {
    write(chunk) {
      if (pendingBytes + chunk.length > maxPendingBytes) {
        droppedBytes += chunk.length;
        return;
      }
      if (droppedBytes > 0) {
        const notice = stdoutLossNotice(droppedBytes, 'the file');
        droppedBytes = 0;
        queue.push(notice);
        pendingBytes += notice.length;
      }
      queue.push(chunk);
      pendingBytes += chunk.length;
      if (!writing) next();
    },
    settled,
  };
}
