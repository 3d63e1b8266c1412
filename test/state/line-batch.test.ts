import { describe, expect, it } from 'vitest';
import { LineBatch } from '../../src/state/line-batch.js';

describe('LineBatch', () => {
  it('gathers lines as UTF-8 with a line break each, counts them, and empties on take', () => {
    const batch = new LineBatch(16);
    batch.push('{"a":1}');
    batch.push('é€😀');
    expect(batch.lines).toBe(2);
    expect(batch.byteLength).toBe(8 + 2 + 3 + 4 + 1);
    const taken = batch.take();
    expect(taken.toString('utf8')).toBe('{"a":1}\né€😀\n');
    expect(batch.lines).toBe(0);
    expect(batch.byteLength).toBe(0);
  });

  it('grows past its first buffer without losing what it held, and what it handed out stays intact', () => {
    const batch = new LineBatch(8);
    const lines = Array.from({ length: 200 }, (_, index) => `line ${index} ${'x'.repeat(index % 37)}`);
    for (const line of lines.slice(0, 100)) batch.push(line);
    const first = batch.take();
    for (const line of lines.slice(100)) batch.push(line);
    const second = batch.take();
    expect(first.toString()).toBe(lines.slice(0, 100).map((line) => `${line}\n`).join(''));
    expect(second.toString()).toBe(lines.slice(100).map((line) => `${line}\n`).join(''));
  });
});
