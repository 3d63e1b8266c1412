// Timeline stores reused while nobody looked: a burst of new machines makes no ArrayBuffer per machine, and a
// snapshot or record handed out keeps reading what it read, however many machines come and go after it.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DhcpOptionsView } from '../../src/protocol/dhcp4/options-view.js';
import { decode } from '../../src/protocol/dhcp4/packet.js';
import type { Mac } from '../../src/protocol/mac.js';
import { eventJson } from '../../src/servers/event-json.js';
import type { PxedeckEvent } from '../../src/servers/events.js';
import { ClientRegistry } from '../../src/state/registry.js';
import { TimelineStores } from '../../src/state/timeline-stores.js';

const fixtures = resolve(import.meta.dirname, '../fixtures/dhcp4');
const manifest = JSON.parse(readFileSync(resolve(fixtures, 'manifest.json'), 'utf8')) as { fixtures: Array<{ file: string }> };
const packets = manifest.fixtures.map(({ file }) => decode(Buffer.from(readFileSync(resolve(fixtures, file), 'utf8').replace(/\s+/g, ''), 'hex')));
const macOf = (n: number) => `02:00:${[n >>> 24, n >>> 16, n >>> 8, n].map((byte) => (byte & 0xff).toString(16).padStart(2, '0')).join(':')}` as Mac;

/** A full DHCP exchange as the server reports it, with a real firmware packet's options: five events. */
function exchange(n: number, time: number): PxedeckEvent[] {
  const mac = macOf(n);
  const ip = `10.0.${(n >>> 8) & 0xff}.${n & 0xff}`;
  const options = DhcpOptionsView.of(packets[n % packets.length]!.options);
  const received = (messageType: string): PxedeckEvent => ({
    kind: 'dhcp.received', time, source: 'dhcp4', mac, xid: n, messageType, peer: '10.0.0.254:67', summary: `${messageType} from PXE`, options, client: 'PXE BIOS',
  });
  const sent = (messageType: string): PxedeckEvent => ({
    kind: 'dhcp.sent', time, source: 'dhcp4', mac, xid: n, messageType, peer: '10.0.0.254:67', summary: 'address only', options, yiaddr: ip, ip,
  });
  return [received('DISCOVER'), sent('OFFER'), received('REQUEST'), sent('ACK'), { kind: 'lease.granted', time, source: 'dhcp4', mac, ip, expiresAt: time + 3_600_000 }];
}

const linesOf = (events: Iterable<PxedeckEvent>) => [...events].map((event) => eventJson(event));

describe('timeline stores', () => {
  it('a burst of new machines nobody looks at reuses the forgotten machines’ stores', () => {
    const registry = new ClientRegistry({ limits: { maxClients: 20 } });
    for (let n = 0; n < 2000; n += 1) for (const event of exchange(n, 1_000 + n)) registry.apply(event);
    const stats = registry.timelineStoreStats();
    // One store per machine kept, and a few per size class the firmware packets' sizes fall in; not one per machine.
    expect(stats.made).toBeLessThanOrEqual(40);
    expect(stats.reused).toBeGreaterThanOrEqual(1950);
    // And what the reused stores hold is each machine's own exchange.
    const last = registry.get(macOf(1999))!;
    expect(linesOf(last.timeline)).toEqual(linesOf(exchange(1999, 2_999)));
  });

  it('a snapshot keeps reading the events it was taken with while the machines in it are forgotten and their places reused', () => {
    const registry = new ClientRegistry({ limits: { maxClients: 10 } });
    for (let n = 0; n < 10; n += 1) for (const event of exchange(n, 1_000 + n)) registry.apply(event);
    const snapshot = registry.getSnapshot();
    const before = [...snapshot.clients.values()].map((record) => linesOf(record.timeline));
    for (let n = 10; n < 500; n += 1) for (const event of exchange(n, 1_000 + n)) registry.apply(event);
    expect(registry.getSnapshot().evicted).toBe(490);
    expect([...snapshot.clients.values()].map((record) => linesOf(record.timeline))).toEqual(before);
    // Their stores went to the collector, not to new machines: everything made after the look is new.
    expect(registry.timelineStoreStats().made).toBeGreaterThanOrEqual(20);
  });

  it('a record handed out by get keeps its events when its machine grows out of its store and is then forgotten', () => {
    const registry = new ClientRegistry({ limits: { maxClients: 5 } });
    for (const event of exchange(1, 1_000)) registry.apply(event);
    const held = registry.get(macOf(1))!;
    const heldLines = linesOf(held.timeline);
    // Enough further events to outgrow the first store, then enough new machines to forget this one.
    for (let round = 0; round < 20; round += 1) for (const event of exchange(1, 2_000 + round)) registry.apply(event);
    for (let n = 2; n < 200; n += 1) for (const event of exchange(n, 3_000 + n)) registry.apply(event);
    expect(registry.get(macOf(1))).toBeUndefined();
    expect(linesOf(held.timeline)).toEqual(heldLines);
  });

  it('takes a store of its size class (half powers of two), reuses only one made after the last look, once, and keeps at most 2 MiB waiting', () => {
    const stores = new TimelineStores();
    const first = stores.take(700);
    expect(first.length).toBe(724);
    stores.giveBack(first);
    stores.giveBack(first);
    expect(stores.take(600)).toBe(first);
    expect(stores.take(600)).not.toBe(first);

    const seen = stores.take(3000);
    stores.lookedAt();
    stores.giveBack(seen);
    expect(stores.take(3000)).not.toBe(seen);
    expect(stores.stats).toEqual({ made: 4, reused: 1, returned: 1 });

    // Past the largest class (64 KiB) a store is made to measure and never comes back.
    const large = stores.take(100_000);
    expect(large.length).toBe(100_000);
    stores.giveBack(large);
    expect(stores.take(100_000)).not.toBe(large);
    expect(stores.stats).toEqual({ made: 6, reused: 1, returned: 1 });

    const many = Array.from({ length: 40 }, () => stores.take(60_000));
    for (const store of many) stores.giveBack(store);
    expect(stores.stats.returned).toBe(1 + 32);
  });
});
