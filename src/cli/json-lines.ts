/**
 * Headless stdout: one JSON line per event, written in batches — once per turn of the event loop, or
 * whenever 64 KiB have gathered — instead of one write (a system call, on a file or a pipe) per event,
 * which cost full DHCP more than answering the packet did. Lines keep their order; `flush()` writes what
 * is left (on exit). The stream often ends on a terminal: each batch is made safe for one (terminal-text.ts)
 * in one pass, the same JSON.
 */
import { terminalSafeJson } from '../state/terminal-text.js';

const BATCH_BYTES = 64 * 1024;

export interface JsonLinesPrinter {
  print(json: string): void;
  flush(): void;
}

export function openJsonLinesPrinter(write: (chunk: string) => void): JsonLinesPrinter {
  let pending = '';
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending === '') return;
    const chunk = pending;
    pending = '';
    write(terminalSafeJson(chunk));
  };
  return {
    print(json) {
      pending += `${json}\n`;
      if (pending.length >= BATCH_BYTES) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}
