// Events across threads: packets captured from real firmware (test/fixtures/dhcp4/README.md), serialised as the
// event sink does, posted through a real MessageChannel, read back on the other side.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { DhcpOptionsView, optionValue } from '../../src/protocol/dhcp4/options-view.js';
import { decode } from '../../src/protocol/dhcp4/packet.js';
import type { Mac } from '../../src/protocol/mac.js';
import { serialiseEvent } from '../../src/servers/event-json.js';
import type { PxedeckEvent } from '../../src/servers/events.js';
import { EventBatchWriter, readEventBatch, type EventBatch } from '../../src/runtime/event-batch.js';
import { ClientRegistry } from '../../src/state/registry.js';

const dir = resolve(import.meta.dirname, '../fixtures/dhcp4');
const manifest = JSON.parse(readFileSync(resolve(dir, 'manifest.json'), 'utf8')) as { fixtures: Array<{ file: string }> };
const packetOf = (file: string) => decode(Buffer.from(readFileSync(resolve(dir, file), 'utf8').replace(/\s+/g, ''), 'hex'));
const MAC = '52:54:00:12:34:56' as Mac;

function firmwareEvents(): PxedeckEvent[] {
  const events: PxedeckEvent[] = [{ kind: 'notice', time: 1_796_392_946_000, source: 'system', level: 'info', message: 'started' }];
  manifest.fixtures.forEach(({ file }, index) => {
    events.push({
      kind: 'dhcp.received',
      time: 1_796_392_946_829 + index,
      source: 'dhcp4',
      mac: MAC,
      messageType: 'DISCOVER',
      xid: 0x1234abcd + index,
      peer: '0.0.0.0:68',
      summary: file,
      options: DhcpOptionsView.of(packetOf(file).options),
    });
    events.push({ kind: 'http.request', time: 1_796_392_946_900 + index, source: 'http', mac: MAC, ip: '10.0.0.5', method: 'GET', path: '/boot.ipxe', status: 200, route: 'boot-script' });
  });
  return events;
}

async function across(batch: EventBatch, transfer: ArrayBuffer[]): Promise<EventBatch> {
  const { port1, port2 }: { port1: MessagePort; port2: MessagePort } = new MessageChannel();
  const received = new Promise<EventBatch>((done) => port2.once('message', done));
  port1.postMessage(batch, transfer);
  const crossed = await received;
  port1.close();
  return crossed;
}

describe('event batches', () => {
  it('carry each event to the other side in order, with DHCP options readable and the same JSON', async () => {
    const events = firmwareEvents();
    const writer = new EventBatchWriter();
    for (const event of events) writer.add(serialiseEvent(event));
    const { batch, transfer } = writer.take();
    const crossed = await across(batch, transfer);

    const read: PxedeckEvent[] = [];
    readEventBatch(crossed, (event, stored) => {
      read.push(event);
      expect(stored.head).toBe(serialiseEvent(event).head);
    });
    expect(read.map((event) => serialiseEvent(event).line)).toEqual(events.map((event) => serialiseEvent(event).line));
    const firstDhcp = read.find((event) => event.kind === 'dhcp.received');
    expect(firstDhcp && 'options' in firstDhcp && firstDhcp.options).toBeInstanceOf(DhcpOptionsView);
    const sentOptions = (events[1] as { options: DhcpOptionsView }).options;
    expect(optionValue((firstDhcp as { options: DhcpOptionsView }).options, '53:message-type')).toBe(optionValue(sentOptions, '53:message-type'));
  });

  it('move the option bytes in one buffer of their exact size, not the pool each Buffer was cut from', () => {
    const writer = new EventBatchWriter();
    const sizes: number[] = [];
    for (const event of firmwareEvents()) {
      const serialised = serialiseEvent(event);
      // DhcpOptionsView.of allocates from Node's shared pool: the ArrayBuffer under it is larger than the view.
      if (serialised.optionBytes) expect(serialised.optionBytes.buffer.byteLength).toBeGreaterThan(serialised.optionBytes.length);
      sizes.push(serialised.optionBytes?.length ?? 0);
      writer.add(serialised);
    }
    const { batch, transfer } = writer.take();
    expect(batch.optionBytes.byteLength).toBe(sizes.reduce((sum, size) => sum + size, 0));
    expect(transfer).toEqual([batch.optionBytes]);
    expect(writer.size).toBe(0);
    expect(writer.take().batch.heads).toEqual([]);
  });

  it('fold into a registry as the events themselves do', async () => {
    const events = firmwareEvents();
    const writer = new EventBatchWriter();
    for (const event of events) writer.add(serialiseEvent(event));
    const { batch, transfer } = writer.take();
    const direct = new ClientRegistry();
    for (const event of events) direct.apply(event);
    const crossed = new ClientRegistry();
    readEventBatch(await across(batch, transfer), (event, stored) => crossed.apply(event, stored));
    const timelineOf = (registry: ClientRegistry) => [...(registry.get(MAC)?.timeline ?? [])].map((event) => serialiseEvent(event).line);
    expect(timelineOf(crossed)).toEqual(timelineOf(direct));
    expect(crossed.history(MAC)).toEqual(direct.history(MAC));
  });

  it('refuse a batch whose option lengths run past its bytes, instead of reading another event as options', () => {
    const batch: EventBatch = { heads: ['{"kind":"notice"}'], optionLengths: [16], optionBytes: new ArrayBuffer(8) };
    expect(() => readEventBatch(batch, () => undefined)).toThrow(/option lengths pass its 8 bytes/);
    expect(() => readEventBatch({ heads: ['{}', '{}'], optionLengths: [-1], optionBytes: new ArrayBuffer(0) }, () => undefined)).toThrow(/2 events and 1 option lengths/);
  });
});
