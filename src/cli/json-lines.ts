/**
 * Headless stdout: one JSON line per event, written in batches — once per turn of the event loop, or
 * whenever 64 KiB have gathered — instead of one write (a system call, on a file or a pipe) per event,
 * which cost full DHCP more than answering the packet did. Lines keep their order; `flush()` writes what
 * is left (on exit). The stream often ends on a terminal: each line is made safe for one (terminal-text.ts),
 * the same JSON, and gathered as bytes (line-batch.ts).
 */
import { fstatSync } from 'node:fs';
import { LineBatch } from '../state/line-batch.js';
import { openOrderedFileWriter } from './ordered-file-writer.js';
import { terminalSafeJson } from '../state/terminal-text.js';

const BATCH_BYTES = 64 * 1024;

export interface JsonLinesPrinter {
  print(json: string): void;
  flush(): void;
}

export function openJsonLinesPrinter(write: (chunk: Uint8Array) => void): JsonLinesPrinter {
  const batch = new LineBatch(BATCH_BYTES * 2);
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (batch.byteLength === 0) return;
    write(batch.take());
  };
  return {
    print(json) {
      batch.push(terminalSafeJson(json));
      if (batch.byteLength >= BATCH_BYTES) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}

/**
 * The printer for process stdout: written in order on libuv's threads when stdout is a regular file
 * (ordered-file-writer.ts says why), through the stream otherwise (a terminal, a pipe, journald's socket).
 */
export function openStdoutPrinter(): JsonLinesPrinter & { close(): Promise<void> } {
  const fileWriter = fstatSync(1).isFile() ? openOrderedFileWriter(1) : undefined;
  const printer = openJsonLinesPrinter(fileWriter ? (chunk) => fileWriter.write(chunk) : (chunk) => process.stdout.write(chunk));
  return {
    ...printer,
    async close() {
      printer.flush();
      await fileWriter?.settled();
    },
  };
}
