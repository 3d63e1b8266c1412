// An event's JSON line against JSON.stringify, for packets captured from real firmware (test/fixtures/dhcp4/README.md).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DhcpOptionsView } from '../../src/protocol/dhcp4/options-view.js';
import { decode } from '../../src/protocol/dhcp4/packet.js';
import { eventJson } from '../../src/servers/event-json.js';
import type { Mac } from '../../src/protocol/mac.js';
import type { PxedeckEvent } from '../../src/servers/events.js';

const dir = resolve(import.meta.dirname, '../fixtures/dhcp4');
const manifest = JSON.parse(readFileSync(resolve(dir, 'manifest.json'), 'utf8')) as { fixtures: Array<{ file: string }> };
const packetOf = (file: string) => decode(Buffer.from(readFileSync(resolve(dir, file), 'utf8').replace(/\s+/g, ''), 'hex'));

const packetEvent = (options: DhcpOptionsView, summary = 'DISCOVER from firmware'): PxedeckEvent => ({
  kind: 'dhcp.received',
  time: 1_796_392_946_829,
  source: 'dhcp4',
  mac: '52:54:00:12:34:56' as Mac,
  messageType: 'DISCOVER',
  xid: 0x1234abcd,
  peer: '0.0.0.0:68',
  summary,
  options,
  client: 'PXEClient:Arch:00007',
  secs: 4,
});

describe('eventJson', () => {
  it.each(manifest.fixtures.map((fixture) => fixture.file))('%s: the same line as JSON.stringify, options in their place', (file) => {
    const event = packetEvent(DhcpOptionsView.of(packetOf(file).options));
    expect(eventJson(event)).toBe(JSON.stringify(event));
  });

  it('is not fooled by a field before the options whose text is the stand-in for them', () => {
    const options = DhcpOptionsView.of(new Map([[53, Buffer.from([1])]]));
    const event = packetEvent(options, '\u0000options');
    expect(eventJson(event)).toBe(JSON.stringify(event));
    expect(JSON.parse(eventJson(event))).toMatchObject({ summary: '\u0000options', options: { '53:message-type': 'DISCOVER' } });
  });

  it('serialises events without a view (read back from the log, or of another kind) as they are', () => {
    const fromLog = { ...packetEvent(DhcpOptionsView.of(new Map())), options: { '53:message-type': 'OFFER' } } as PxedeckEvent;
    expect(eventJson(fromLog)).toBe(JSON.stringify(fromLog));
    const notice: PxedeckEvent = { kind: 'notice', time: 1, source: 'system', level: 'info', message: 'options "\u0000options"' };
    expect(eventJson(notice)).toBe(JSON.stringify(notice));
  });
});
