import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openOrderedFileWriter } from '../../src/cli/ordered-file-writer.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const tempFile = () => {
  const dir = mkdtempSync(join(tmpdir(), 'pxedeck-stdout-'));
  dirs.push(dir);
  return join(dir, 'events.jsonl');
};

describe('ordered file writer (headless stdout to a file)', () => {
  it('writes every chunk in order, off the event loop, and settles once all are in the file', async () => {
    const path = tempFile();
    const fd = openSync(path, 'w');
    const writer = openOrderedFileWriter(fd);
    const lines = Array.from({ length: 2000 }, (_, index) => `{"n":${index},"pad":"${'x'.repeat(index % 300)}"}\n`);
    for (const line of lines) writer.write(Buffer.from(line));
    // Nothing was written synchronously: the calls only queued.
    expect(readFileSync(path, 'utf8').length).toBeLessThan(lines.join('').length);
    await writer.settled();
    closeSync(fd);
    expect(readFileSync(path, 'utf8')).toBe(lines.join(''));
  });

  it('past its bound drops chunks instead of holding them, and says how many bytes in their place, in order', async () => {
    const path = tempFile();
    const fd = openSync(path, 'w');
    const writer = openOrderedFileWriter(fd, 1000);
    const chunk = (n: number) => Buffer.from(`${JSON.stringify({ n, pad: 'y'.repeat(80) })}\n`);
    for (let n = 0; n < 50; n += 1) writer.write(chunk(n));
    await writer.settled();
    writer.write(chunk(50));
    await writer.settled();
    closeSync(fd);
    const written = readFileSync(path, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { n?: number; kind?: string; message?: string });
    const kept = written.filter((line) => line.n !== undefined).map((line) => line.n!);
    const notices = written.filter((line) => line.kind === 'notice');
    expect(kept.length).toBeLessThan(51);
    expect(kept).toEqual([...kept].sort((a, b) => a - b));
    expect(kept.at(-1)).toBe(50);
    expect(notices).toHaveLength(1);
    const dropped = Number(/stdout: (\d+) bytes/.exec(notices[0]!.message!)![1]);
    const lost = Array.from({ length: 51 }, (_, n) => n).filter((n) => !kept.includes(n));
    expect(dropped).toBe(lost.reduce((sum, n) => sum + chunk(n).length, 0));
    // The notice stands where the loss was: after what was kept before it, before chunk 50.
    expect(written.findIndex((line) => line.kind === 'notice')).toBe(written.length - 2);
  });
});
