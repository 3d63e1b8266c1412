import { describe, expect, it } from 'vitest';
import { openJsonLinesPrinter } from '../../src/cli/json-lines.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The printer's output, one entry per write it made. */
function capture() {
  const writes: string[] = [];
  const printer = openJsonLinesPrinter((chunk) => writes.push(Buffer.from(chunk).toString('utf8')));
  return { printer, writes };
}

describe('headless stdout lines (json-lines)', () => {
  it('gathers the lines of many turns into one write shortly after the first, in order', async () => {
    const { printer, writes } = capture();
    const lines = Array.from({ length: 300 }, (_, n) => JSON.stringify({ kind: 'dhcp.received', n }));
    for (const [index, line] of lines.entries()) {
      printer.print(line);
      // Packets arrive over several turns of the event loop; a batch per turn was thousands of writes a second.
      if (index % 50 === 49) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(writes).toEqual([]);
    await sleep(60);
    expect(writes).toHaveLength(1);
    expect(writes[0]).toBe(`${lines.join('\n')}\n`);
  });

  it('writes at once when a batch reaches 64 KiB, and flush() writes what is left', () => {
    const { printer, writes } = capture();
    const line = JSON.stringify({ kind: 'syslog.line', text: 'x'.repeat(1000) });
    for (let n = 0; n < 70; n += 1) printer.print(line);
    expect(writes).toHaveLength(1);
    expect(writes[0]!.length).toBeGreaterThanOrEqual(64 * 1024);
    printer.flush();
    expect(writes).toHaveLength(2);
    expect(writes.join('')).toBe(`${Array(70).fill(line).join('\n')}\n`);
  });

  it('keeps a line made of terminal control characters harmless, still valid JSON', async () => {
    const { printer, writes } = capture();
    printer.print(JSON.stringify({ kind: 'syslog.line', text: 'evil \u001b]0;title\u0007 line' }));
    await sleep(60);
    expect(writes.join('')).not.toContain('\u001b');
    expect(JSON.parse(writes.join(''))).toEqual({ kind: 'syslog.line', text: 'evil \u001b]0;title\u0007 line' });
  });
});
