/**
 * bench:event-log — what the event log costs the event loop. Appends events in bursts the way a busy
 * segment produces them (TFTP progress, syslog lines) and prints the append cost per event, the event
 * loop's delay while batches are written, the write throughput and the batches used.
 *   tsx bench/event-log.ts [--events N] [--burst N] [--dir DIR]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { parseMac } from '../src/protocol/mac.js';
import type { PxedeckEvent } from '../src/servers/events.js';
import { openEventLog, readEvents } from '../src/state/event-log.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '200000' }, burst: { type: 'string', default: '500' }, dir: { type: 'string' } } });
const total = Number(values.events);
const burst = Number(values.burst);
const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'pxd-bench-eventlog-'));
const mac = parseMac('52:54:00:12:34:56')!;

const event = (seq: number): PxedeckEvent => ({
  kind: 'transfer.progress',
  time: Date.now(),
  source: 'tftp',
  mac,
  ip: '10.77.0.100',
  peer: '10.77.0.100:2070',
  file: 'debian-installer/amd64/initrd.gz',
  bytes: seq * 1468,
  size: 40_000_000,
  rate: 12_000_000,
});

const log = openEventLog(dir);
const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();
let appendMs = 0;
const started = performance.now();
for (let seq = 0; seq < total; seq += burst) {
  const before = performance.now();
  for (let index = seq; index < Math.min(total, seq + burst); index += 1) log.append(event(index));
  appendMs += performance.now() - before;
  // Let the loop breathe between bursts, as sockets would.
  await new Promise((resolve) => setImmediate(resolve));
}
await log.close();
const elapsed = performance.now() - started;
delay.disable();
const readStarted = performance.now();
const count = (await readEvents(dir)).length;
const readMs = performance.now() - readStarted;

console.log(`events ${total} in bursts of ${burst}; written ${log.stats.written}, dropped ${log.stats.dropped}, batches ${log.stats.batches}, rotations ${log.stats.rotations}`);
console.log(`append: ${((appendMs * 1000) / total).toFixed(2)} µs per event (JSON.stringify + queue), total ${elapsed.toFixed(0)} ms to written and closed`);
console.log(`event loop delay: p50 ${(delay.percentile(50) / 1e6).toFixed(2)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(2)} ms, max ${(delay.max / 1e6).toFixed(2)} ms`);
console.log(`read back: ${count} events in ${readMs.toFixed(0)} ms (${((count / readMs) * 1000).toFixed(0)} events/s)`);
if (!values.dir) rmSync(dir, { recursive: true, force: true });
