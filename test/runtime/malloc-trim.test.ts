import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { QUIET_UTILIZATION, quietTrimPolicy } from '../../src/runtime/malloc-trim.js';

const quiet = (threads = 11) => ({ utilization: QUIET_UTILIZATION / 2, threads });
const busy = (threads = 11) => ({ utilization: 0.5, threads });

describe('quietTrimPolicy', () => {
  it('trims once at the first quiet tick (what the start-up freed), then not again while nothing happens', () => {
    const decide = quietTrimPolicy();
    expect([quiet(), quiet(), quiet(), quiet()].map(decide)).toEqual([true, false, false, false]);
  });

  it('trims at the first quiet tick after a busy spell, never during it', () => {
    const decide = quietTrimPolicy();
    decide(quiet());
    expect([busy(), busy(), quiet(), quiet(), busy(), quiet()].map(decide)).toEqual([false, false, true, false, false, true]);
  });

  it('trims after a thread ended although the main thread stayed quiet', () => {
    const decide = quietTrimPolicy();
    decide(quiet(11));
    expect([quiet(13), quiet(13), quiet(11), quiet(11)].map(decide)).toEqual([false, false, true, false]);
  });

  it('waits for quiet when a thread ends during a busy spell', () => {
    const decide = quietTrimPolicy();
    decide(quiet(13));
    expect([busy(11), quiet(11)].map(decide)).toEqual([false, true]);
  });
});

/**
 * The real effect, in a process of its own: a thread allocates ~40 MiB in small malloc chunks (ArrayBuffer
 * backing stores, from its own arena), frees them and ends; its arena keeps the pages resident until
 * malloc_trim hands them back.
 */
const script = `
import { Worker } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { mallocTrim } from ${JSON.stringify(fileURLToPath(new URL('../../src/runtime/malloc-trim.ts', import.meta.url)))};
const rssKiB = () => Number(/VmRSS:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
const churn = \`
  let kept = [];
  for (let i = 0; i < 20000; i++) kept.push(new ArrayBuffer(2048));
  // Every other one first, so the arena's free memory is not one block at its top (which free() returns by itself).
  kept = kept.filter((_, i) => i % 2 === 0);
  kept = null;
\`;
await new Promise((resolve, reject) => new Worker(churn, { eval: true }).on('exit', resolve).on('error', reject));
await new Promise((resolve) => setTimeout(resolve, 200));
const before = rssKiB();
const trim = mallocTrim();
if (!trim) { console.log(JSON.stringify({ unavailable: true })); process.exit(0); }
trim();
console.log(JSON.stringify({ before, after: rssKiB() }));
`;

describe('mallocTrim', () => {
  it('hands an ended thread’s freed arena pages back to the kernel', () => {
    const output = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    const result = JSON.parse(output.trim().split('\n').at(-1)!) as { before: number; after: number } | { unavailable: true };
    if ('unavailable' in result) throw new Error('malloc_trim unavailable on this machine (Linux with glibc expected)');
    expect(result.before - result.after).toBeGreaterThan(8 * 1024);
  });
});
