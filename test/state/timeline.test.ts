// A machine's timeline kept as JSON lines off the heap: what goes in comes back, bounded, and views never change.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DhcpOptionsView } from '../../src/protocol/dhcp4/options-view.js';
import { decode } from '../../src/protocol/dhcp4/packet.js';
import type { Mac } from '../../src/protocol/mac.js';
import { eventJson, serialiseEvent } from '../../src/servers/event-json.js';
import type { PxedeckEvent } from '../../src/servers/events.js';
import { Timeline } from '../../src/state/timeline.js';

const dir = resolve(import.meta.dirname, '../fixtures/dhcp4');
const manifest = JSON.parse(readFileSync(resolve(dir, 'manifest.json'), 'utf8')) as { fixtures: Array<{ file: string }> };
const packetOf = (file: string) => decode(Buffer.from(readFileSync(resolve(dir, file), 'utf8').replace(/\s+/g, ''), 'hex'));
const mac = '52:54:00:12:34:56' as Mac;

/** Real firmware packets (test/fixtures/dhcp4) as the DHCP server's events, options as the view it emits. */
const firmwareEvents: PxedeckEvent[] = manifest.fixtures.map(({ file }, index) => ({
  kind: 'dhcp.received',
  time: 1_796_392_946_829 + index,
  source: 'dhcp4',
  mac,
  messageType: 'DISCOVER',
  xid: 0x1234abcd,
  peer: '0.0.0.0:68',
  summary: `DISCOVER from ${file}`,
  options: DhcpOptionsView.of(packetOf(file).options),
  client: 'PXEClient:Arch:00007',
}));

const syslogLine = (time: number, message: string): PxedeckEvent => ({
  kind: 'syslog.line',
  time,
  source: 'syslog',
  mac,
  ip: '10.0.0.9',
  peer: '10.0.0.9:514',
  facility: 'user',
  severity: 'info',
  message,
});

const appendAll = (timeline: Timeline, events: readonly PxedeckEvent[]) => events.reduce((kept, event) => kept.append(serialiseEvent(event)), timeline);
/** What an event without DHCP options reads back as: its JSON line parsed. */
const asRead = (event: PxedeckEvent) => JSON.parse(JSON.stringify(event)) as PxedeckEvent;
const times = (timeline: Timeline) => timeline.slice().map((event) => event.time);

describe('Timeline', () => {
  it('reads back every captured firmware packet event as it went in: the same JSON line, options as their view', () => {
    const timeline = appendAll(Timeline.empty(200), firmwareEvents);
    expect(timeline).toHaveLength(firmwareEvents.length);
    expect([...timeline].map(eventJson)).toEqual(firmwareEvents.map(eventJson));
    for (const event of timeline) expect(event.kind === 'dhcp.received' && event.options instanceof DhcpOptionsView).toBe(true);
    expect(eventJson(timeline.at(-1)!)).toBe(eventJson(firmwareEvents.at(-1)!));
    expect(JSON.stringify(timeline)).toBe(JSON.stringify(firmwareEvents));
  });

  it('keeps a packet event in about half the room of its JSON line: the options as their bytes', () => {
    const timeline = appendAll(Timeline.empty(200), firmwareEvents);
    const lineBytes = firmwareEvents.reduce((sum, event) => sum + Buffer.byteLength(eventJson(event)), 0);
    expect(timeline.byteLength).toBeLessThan(lineBytes * 0.7);
    expect(timeline.byteLength).toBeGreaterThan(lineBytes * 0.3);
  });

  it('keeps the newest `limit` events through many store replacements', () => {
    let timeline = Timeline.empty(7);
    for (let time = 1; time <= 500; time += 1) {
      timeline = timeline.append(serialiseEvent(syslogLine(time, `line ${time} ${'x'.repeat(time % 300)}`)));
      expect(timeline).toHaveLength(Math.min(time, 7));
      expect(timeline.at(-1)!.time).toBe(time);
    }
    expect(times(timeline)).toEqual([494, 495, 496, 497, 498, 499, 500]);
  });

  it('never changes a timeline once made: older versions read their own events after later appends and replacements', () => {
    const versions: Timeline[] = [Timeline.empty(5)];
    for (let time = 1; time <= 60; time += 1) versions.push(versions.at(-1)!.append(serialiseEvent(syslogLine(time, `line ${time}`))));
    versions.forEach((version, index) => {
      const expected = Array.from({ length: Math.min(index, 5) }, (_, offset) => index - Math.min(index, 5) + offset + 1);
      expect(times(version)).toEqual(expected);
    });
  });

  it('appending to an older version forks it and leaves the newer one as it was', () => {
    const older = appendAll(Timeline.empty(10), [syslogLine(1, 'a'), syslogLine(2, 'b')]);
    const newer = older.append(serialiseEvent(syslogLine(3, 'c')));
    const fork = older.append(serialiseEvent(syslogLine(30, 'fork')));
    expect(times(newer)).toEqual([1, 2, 3]);
    expect(times(fork)).toEqual([1, 2, 30]);
    expect(times(older)).toEqual([1, 2]);
  });

  it('carries text outside ASCII and an event larger than a first store', () => {
    const lines = [syslogLine(1, 'année über 設定 🚀'), syslogLine(2, 'y'.repeat(10_000)), syslogLine(3, '\u0000\u2028 "quoted"')];
    const timeline = appendAll(Timeline.empty(3), lines);
    expect([...timeline]).toEqual(lines.map(asRead));
  });

  it('slices and indexes as an array does, negative positions included', () => {
    const events = Array.from({ length: 6 }, (_, index) => syslogLine(index + 1, `line ${index + 1}`));
    const timeline = appendAll(Timeline.empty(10), events);
    const array = events.map(asRead);
    for (const [start, end] of [[0, 6], [2, 4], [-3, undefined], [-10, 2], [4, 2], [5, 99], [undefined, -1]] as const) {
      expect(timeline.slice(start, end)).toEqual(array.slice(start, end));
    }
    for (const index of [0, 5, 6, -1, -6, -7, 1.5, Number.NaN]) expect(timeline.at(index)).toEqual(array.at(index));
    expect(Timeline.empty(3).at(0)).toBeUndefined();
    expect([...Timeline.empty(3)]).toEqual([]);
  });

  it('keeps its bytes outside the V8 heap', () => {
    // 8 MB of lines: far more than the other tests' buffers the collector may free meanwhile.
    const line = syslogLine(1, 'x'.repeat(2000));
    const before = process.memoryUsage().arrayBuffers;
    let timeline = Timeline.empty(4000);
    for (let index = 0; index < 4000; index += 1) timeline = timeline.append(serialiseEvent(line));
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(grown).toBeGreaterThanOrEqual(timeline.byteLength * 0.75);
    expect(timeline.byteLength).toBeGreaterThan(JSON.stringify(line).length * 4000);
    expect(timeline.at(3999)).toEqual(asRead(line));
  });

  it('refuses a limit that keeps nothing', () => {
    expect(() => Timeline.empty(0)).toThrow(/at least 1/);
  });
});
