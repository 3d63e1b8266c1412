import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseMac } from '../../src/protocol/mac.js';
import type { PxedeckEvent } from '../../src/servers/events.js';
import { eventLogFiles, openEventLog, readEvents, streamEvents } from '../../src/state/event-log.js';

const A = parseMac('52:54:00:00:00:0a')!;
const B = parseMac('52:54:00:00:00:0b')!;

let dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pxd-eventlog-'));
  dirs.push(dir);
  return dir;
}

/** A syslog line with a sequence number in its message: lets a test check order and gaps. */
function line(seq: number, mac = A, time = 1_700_000_000_000 + seq): PxedeckEvent {
  return { kind: 'syslog.line', time, source: 'syslog', mac, ip: '10.77.0.100', peer: '10.77.0.100:514', facility: 'user', severity: 'info', app: 'seq', message: String(seq) };
}
const seqOf = (event: PxedeckEvent) => (event.kind === 'syslog.line' ? Number(event.message) : NaN);

describe('event log', () => {
  it('appends one JSON line per event and reads them back equal', async () => {
    const dir = dataDir();
    const log = openEventLog(dir);
    const events: PxedeckEvent[] = [
      line(1),
      { kind: 'dhcp.ignored', time: 1, source: 'dhcp4', mac: B, xid: 0x1234, reason: 'not a netboot client' },
      { kind: 'server.listening', time: 2, source: 'syslog', server: 'syslog', address: '10.77.0.1:514' },
    ];
    for (const event of events) log.append(event);
    await log.close();
    expect(log.path).toBe(join(dir, 'events', 'events.jsonl'));
    const text = readFileSync(log.path, 'utf8');
    expect(text.split('\n')).toHaveLength(4);
    expect(text.split('\n').slice(0, 3).map((row) => JSON.parse(row))).toEqual(events);
    expect(await readEvents(dir)).toEqual(events);
  });

  it('queues appends and writes them in batches, without being asked', async () => {
    const dir = dataDir();
    const log = openEventLog(dir, { flushDelayMs: 50 });
    for (let seq = 0; seq < 1000; seq += 1) log.append(line(seq));
    // Nothing is written during the appends themselves.
    expect(existsSync(log.path)).toBe(false);
    const deadline = Date.now() + 2000;
    while (log.stats.written < 1000 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(log.stats.written).toBe(1000);
    expect(log.stats.batches).toBeLessThanOrEqual(2);
    expect((await readEvents(dir)).map(seqOf)).toEqual(Array.from({ length: 1000 }, (_, seq) => seq));
    await log.close();
  });

  it('under a steady stream writes once per delay or per flushBytes, not once per finished write', async () => {
    // A DHCP burst appends without pause; each write is a hand-off to the thread pool that costs the
    // main thread tens of microseconds, so lines that came in during a write wait for the next batch.
    const dir = dataDir();
    const log = openEventLog(dir, { flushDelayMs: 100, flushBytes: 1024 * 1024 });
    const start = performance.now();
    let seq = 0;
    while (performance.now() - start < 1000) {
      for (let index = 0; index < 8; index += 1) log.append(line(seq++));
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const seconds = (performance.now() - start) / 1000;
    await log.flush();
    expect(log.stats.written).toBe(seq);
    // ~10 delays a second and the close; a drain that wrote again at once after each write made 100s.
    expect(log.stats.batches).toBeLessThanOrEqual(Math.ceil(seconds * 10) + 3);
    expect((await readEvents(dir)).map(seqOf)).toEqual(Array.from({ length: seq }, (_, index) => index));
    await log.close();
  });

  it('rotates by size, keeps N files, and reads across them in order', async () => {
    const dir = dataDir();
    const log = openEventLog(dir, { maxFileBytes: 8 * 1024, keepFiles: 3 });
    for (let seq = 0; seq < 600; seq += 1) {
      log.append(line(seq));
      if (seq % 20 === 19) await log.flush();
    }
    await log.close();
    expect(readdirSync(join(dir, 'events')).sort()).toEqual(['events.jsonl', 'events.jsonl.1', 'events.jsonl.2']);
    expect(log.stats.rotations).toBeGreaterThan(5);
    const files = await eventLogFiles(dir);
    expect(files.map((file) => file.split('/').at(-1))).toEqual(['events.jsonl.2', 'events.jsonl.1', 'events.jsonl']);
    for (const file of files) expect(statSync(file).size).toBeLessThanOrEqual(8 * 1024);
    const seqs = (await readEvents(dir)).map(seqOf);
    // The oldest files were deleted: what is left is the newest events, contiguous and in order.
    expect(seqs.at(-1)).toBe(599);
    expect(seqs[0]).toBeGreaterThan(0);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, index) => seqs[0]! + index));
  });

  it('continues an existing file after a restart and rotates it when full', async () => {
    const dir = dataDir();
    const first = openEventLog(dir, { maxFileBytes: 4096, keepFiles: 5 });
    for (let seq = 0; seq < 15; seq += 1) first.append(line(seq));
    await first.close();
    const sizeBefore = statSync(first.path).size;
    expect(sizeBefore).toBeGreaterThan(2048);
    const second = openEventLog(dir, { maxFileBytes: 4096, keepFiles: 5 });
    for (let seq = 15; seq < 30; seq += 1) second.append(line(seq));
    await second.close();
    expect(second.stats.rotations).toBe(1);
    expect(statSync(`${first.path}.1`).size).toBe(sizeBefore);
    expect((await readEvents(dir)).map(seqOf)).toEqual(Array.from({ length: 30 }, (_, seq) => seq));
  });

  it('filters by MAC, time and kind', async () => {
    const dir = dataDir();
    const log = openEventLog(dir, { maxFileBytes: 1024 });
    for (let seq = 0; seq < 40; seq += 1) {
      log.append(line(seq, seq % 2 === 0 ? A : B, 1000 + seq));
      if (seq % 5 === 4) await log.flush();
    }
    log.append({ kind: 'notice', time: 1020, source: 'system', level: 'info', message: 'x' });
    await log.close();
    expect((await eventLogFiles(dir)).length).toBe(5);
    expect((await readEvents(dir, { mac: B })).every((event) => event.mac === B)).toBe(true);
    const window = await readEvents(dir, { since: 1030, until: 1033 });
    expect(window.map(seqOf)).toEqual([30, 31, 32, 33]);
    expect((await readEvents(dir, { kinds: ['notice'] })).map((event) => event.kind)).toEqual(['notice']);
  });

  it('skips lines that are not events (a write cut short) and says where', async () => {
    const dir = dataDir();
    const log = openEventLog(dir);
    log.append(line(1));
    log.append(line(2));
    await log.close();
    appendFileSync(log.path, '{"kind":"syslog.line","time":17\n[1,2]\n\n');
    const skipped: string[] = [];
    const events = await readEvents(dir, {}, { onSkipped: (file, number, reason) => skipped.push(`${file.split('/').at(-1)}:${number}: ${reason}`) });
    expect(events.map(seqOf)).toEqual([1, 2]);
    expect(skipped).toHaveLength(2);
    expect(skipped[0]).toMatch(/^events\.jsonl:3: not JSON/);
    expect(skipped[1]).toBe('events.jsonl:4: not an event (needs kind, time and source)');
    expect(await readEvents(dataDir())).toEqual([]);
  });

  it('a reader that started before a rotation reads every event once', async () => {
    const dir = dataDir();
    const log = openEventLog(dir, { maxFileBytes: 2048, keepFiles: 5 });
    for (let seq = 0; seq < 10; seq += 1) log.append(line(seq));
    await log.flush();
    const reader = streamEvents(dir);
    const firstRead = await reader.next();
    // The writer now rotates (renames) the file the reader has open, and keeps writing.
    for (let seq = 10; seq < 20; seq += 1) log.append(line(seq));
    await log.close();
    expect(log.stats.rotations).toBe(1);
    const seqs = [seqOf(firstRead.value as PxedeckEvent)];
    for await (const event of reader) seqs.push(seqOf(event));
    expect(seqs).toEqual(Array.from({ length: 10 }, (_, seq) => seq));
    expect((await readEvents(dir)).map(seqOf)).toEqual(Array.from({ length: 20 }, (_, seq) => seq));
  });

  it('a failing disk is reported once, never thrown, and the loss is written down when it recovers', async () => {
    const dir = dataDir();
    writeFileSync(join(dir, 'events'), 'a file where the directory should be');
    const errors: Error[] = [];
    const log = openEventLog(dir, { onError: (error) => errors.push(error) });
    log.append(line(1));
    await log.flush();
    log.append(line(2));
    await log.flush();
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/EEXIST|ENOTDIR/);
    expect(log.stats.dropped).toBe(2);
    rmSync(join(dir, 'events'));
    mkdirSync(join(dir, 'events'));
    log.append(line(3));
    await log.close();
    const events = await readEvents(dir);
    expect(events[0]).toMatchObject({ kind: 'notice', level: 'warning', message: expect.stringMatching(/^event log: 2 events were not written/) });
    expect(events.slice(1).map(seqOf)).toEqual([3]);
  });

  it('bounds what waits for the disk: the excess is counted and noted', async () => {
    const dir = dataDir();
    const log = openEventLog(dir, { maxPendingBytes: 2000, flushBytes: 1_000_000 });
    for (let seq = 0; seq < 100; seq += 1) log.append(line(seq));
    const kept = 100 - log.stats.dropped;
    expect(log.stats.dropped).toBeGreaterThan(80);
    await log.close();
    log.append(line(1000));
    const events = await readEvents(dir);
    expect(events.slice(0, kept).map(seqOf)).toEqual(Array.from({ length: kept }, (_, seq) => seq));
    expect(events.at(-1)).toMatchObject({ kind: 'notice', message: expect.stringContaining(`${100 - kept} events were not written`) });
    expect(events).toHaveLength(kept + 1);
  });
});
