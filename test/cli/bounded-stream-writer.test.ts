import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { openBoundedStreamWriter } from '../../src/cli/bounded-stream-writer.js';

const line = (n: number) => Buffer.from(`${JSON.stringify({ kind: 'dhcp.received', n, pad: 'p'.repeat(60) })}\n`);

describe('bounded stream writer (headless stdout to a pipe or socket)', () => {
  it('keeps at most its bound while the reader stalls, then says in place how many bytes were lost', async () => {
    // A pipe whose reader stopped: nothing reads the PassThrough until the end, so every write waits in memory.
    const pipe = new PassThrough({ highWaterMark: 256 });
    const writer = openBoundedStreamWriter(pipe, 2000);
    for (let n = 0; n < 100; n += 1) writer.write(line(n));
    expect(pipe.writableLength).toBeLessThanOrEqual(2000);

    const received: Buffer[] = [];
    pipe.on('data', (chunk: Buffer) => received.push(chunk));
    await writer.settled();
    writer.write(line(100));
    await writer.settled();

    const lines = Buffer.concat(received).toString('utf8').trimEnd().split('\n').map((text) => JSON.parse(text) as { kind: string; n?: number; message?: string });
    const kept = lines.filter((entry) => entry.kind === 'dhcp.received').map((entry) => entry.n);
    const lost = 101 - kept.length;
    expect(lost).toBeGreaterThan(50);
    // The lines kept are the first ones, in order, then the notice, then what came after the reader caught up.
    expect(kept).toEqual([...Array.from({ length: kept.length - 1 }, (_, n) => n), 100]);
    const notice = lines.at(-2)!;
    expect(notice).toMatchObject({ kind: 'notice', level: 'warning' });
    const lostBytes = Array.from({ length: 100 }, (_, n) => n).filter((n) => !kept.includes(n)).reduce((sum, n) => sum + line(n).length, 0);
    expect(notice.message).toBe(`stdout: ${lostBytes} bytes of events were not written (the reader did not keep up)`);
  });

  it('stops waiting for a reader that never reads again', async () => {
    const pipe = new PassThrough({ highWaterMark: 16 });
    const writer = openBoundedStreamWriter(pipe);
    writer.write(line(0));
    const started = Date.now();
    await writer.settled(100);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(pipe.writableLength).toBeGreaterThan(0);
  });
});
