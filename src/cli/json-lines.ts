/**
 * Headless stdout: one JSON line per event, written in batches — 20 ms after the first line of a batch, or
 * whenever 64 KiB have gathered — instead of one write (a system call, on a file or a pipe) per event,
 * which cost full DHCP more than answering the packet did. A batch per turn of the event loop was still
 * thousands of writes a second at 4000 DORA/s; to a file each is a hand-off to a libuv thread that shares
 * the server's core, and the main thread's profile showed 12 % of its time there. 20 ms is below what a
 * reader of the stream notices. Lines keep their order; `flush()` writes what
 * is left (on exit). The stream often ends on a terminal: each line is made safe for one (terminal-text.ts),
 * the same JSON, and gathered as bytes (line-batch.ts).
 */
import { fstatSync } from 'node:fs';
import { LineBatch } from '../state/line-batch.js';
import { openBoundedStreamWriter } from './bounded-stream-writer.js';
import { openOrderedFileWriter } from './ordered-file-writer.js';
import { terminalSafeJson } from '../state/terminal-text.js';

const BATCH_BYTES = 64 * 1024;
const BATCH_DELAY_MS = 20;

export interface JsonLinesPrinter {
  print(json: string): void;
  flush(): void;
}

export function openJsonLinesPrinter(write: (chunk: Uint8Array) => void): JsonLinesPrinter {
  const batch = new LineBatch(BATCH_BYTES * 2);
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (batch.byteLength === 0) return;
    write(batch.take());
  };
  return {
    print(json) {
      batch.push(terminalSafeJson(json));
      if (batch.byteLength >= BATCH_BYTES) flush();
      else timer ??= setTimeout(flush, BATCH_DELAY_MS);
    },
    flush,
  };
}

/**
 * The printer for process stdout: written in order on libuv's threads when stdout is a regular file
 * (ordered-file-writer.ts says why), through the stream otherwise (a terminal, a pipe, journald's socket),
 * bounded either way (bounded-stream-writer.ts).
 */
export function openStdoutPrinter(): JsonLinesPrinter & { close(): Promise<void> } {
  const writer = fstatSync(1).isFile() ? openOrderedFileWriter(1) : openBoundedStreamWriter(process.stdout);
  const printer = openJsonLinesPrinter((chunk) => writer.write(chunk));
  return {
    ...printer,
    async close() {
      printer.flush();
      await writer.settled();
    },
  };
}
