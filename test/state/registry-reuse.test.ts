// A forgotten machine's entry, record and diagnosis state serve the next new machine while nobody outside the
// registry has seen that record (registry.ts). The new machine must start exactly as in a fresh registry, and
// a record once handed out must never be taken over.
import { describe, expect, it } from 'vitest';
import type { Mac } from '../../src/protocol/mac.js';
import type { PxedeckEvent } from '../../src/servers/events.js';
import { newRecord, renewRecord, type ClientRecord, type Draft } from '../../src/state/client-record.js';
import { ClientRegistry } from '../../src/state/registry.js';

const looping = '52:54:00:00:0e:01' as Mac;
const next = '52:54:00:00:0e:02' as Mac;
const between = '52:54:00:00:0e:03' as Mac;
/** A machine heard once: with room for one, it makes the registry forget the one before (entries are taken over by the machine after). */
const heardOnce = (mac: Mac, time: number): PxedeckEvent => ({ kind: 'dhcp.received', time, source: 'dhcp4', mac, xid: 5, messageType: 'DISCOVER', peer: '10.0.0.1:67', summary: '', options: {}, client: 'DHCP client' });

/** pxelinux.0 handed out and fetched three times within a minute, from firmware that also sent its UUID: a loop. */
function loopingBoot(mac: Mac, start: number): PxedeckEvent[] {
  const events: PxedeckEvent[] = [];
  let time = start;
  for (let turn = 1; turn <= 3; turn += 1) {
    events.push(
      { kind: 'dhcp.received', time: (time += 500), source: 'dhcp4', mac, xid: turn, messageType: 'DISCOVER', peer: '0.0.0.0:68', summary: '', options: { '97:client-uuid': '8a4f0c2e-1d3b-4c5a-9e6f-0123456789ab' }, client: 'BIOS PXE' },
      { kind: 'dhcp.sent', time: (time += 500), source: 'dhcp4', mac, xid: turn, messageType: 'OFFER', peer: '255.255.255.255:68', summary: '', options: {}, yiaddr: '10.0.0.50', ip: '10.0.0.50', bootFile: 'pxelinux.0' },
      { kind: 'transfer.start', time: (time += 500), source: 'tftp', mac, file: 'pxelinux.0', bytes: 0 },
      { kind: 'transfer.done', time: (time += 500), source: 'tftp', mac, file: 'pxelinux.0', bytes: 46000 },
    );
  }
  return events;
}

/** A machine's first boot program download: one, not a loop, unless a forgotten machine's past came along. */
function firstDownload(mac: Mac, start: number): PxedeckEvent[] {
  return [
    { kind: 'dhcp.received', time: start, source: 'dhcp4', mac, xid: 9, messageType: 'DISCOVER', peer: '0.0.0.0:68', summary: '', options: {}, client: 'BIOS PXE' },
    { kind: 'dhcp.sent', time: start + 1, source: 'dhcp4', mac, xid: 9, messageType: 'OFFER', peer: '255.255.255.255:68', summary: '', options: {}, yiaddr: '10.0.0.51', ip: '10.0.0.51', bootFile: 'pxelinux.0' },
    { kind: 'transfer.start', time: start + 2, source: 'tftp', mac, file: 'pxelinux.0', bytes: 0 },
    { kind: 'transfer.done', time: start + 3, source: 'tftp', mac, file: 'pxelinux.0', bytes: 46000 },
  ];
}

/** A record's fields as plain data, its rings as their events. */
function plain(record: ClientRecord | undefined): unknown {
  if (!record) return undefined;
  return { ...record, path: record.path.map((step) => ({ ...step })), timeline: record.timeline.slice(), log: record.log.slice() };
}

describe('registry: a forgotten machine\'s entry taken over by the next one', () => {
  it('renewRecord resets every field newRecord sets: a field added to one and not the other fails here', () => {
    const fresh = newRecord(next, 60_000, 200);
    // Every field of a record made over, as another machine may have left it (a one-step path is kept in place).
    const used = Object.fromEntries(Object.keys(fresh).map((key) => [key, `left by ${looping}`])) as unknown as Draft;
    used.path = [{ stage: 'kernel', at: 1 }];
    renewRecord(used, next, 60_000, 200);
    expect(used).toEqual(fresh);
    expect(Object.keys(used)).toEqual(Object.keys(fresh));
  });

  it('the new machine starts as in a fresh registry: no stage, cycle, verdict, key or diagnosis of the old one', () => {
    const registry = new ClientRegistry({ limits: { maxClients: 1 } });
    for (const event of loopingBoot(looping, 1_000)) registry.apply(event);
    expect(registry.takeNewVerdicts().map((found) => found.verdict.kind)).toEqual(['loop']);
    registry.apply(heardOnce(between, 50_000));
    for (const event of firstDownload(next, 60_000)) registry.apply(event);

    const fresh = new ClientRegistry({ limits: { maxClients: 1 } });
    for (const event of firstDownload(next, 60_000)) fresh.apply(event);
    expect(registry.reusedEntries()).toBe(1);
    expect(fresh.reusedEntries()).toBe(0);
    expect(registry.takeNewVerdicts()).toEqual(fresh.takeNewVerdicts());
    expect(registry.history(next)).toEqual(fresh.history(next));
    expect(registry.history(next).looping).toBeUndefined();
    expect(plain(registry.get(next))).toEqual(plain(fresh.get(next)));
    expect(registry.get(next)).toMatchObject({ mac: next, firstSeen: 60_000, cycles: 1, verdicts: [], transfer: expect.objectContaining({ file: 'pxelinux.0', done: true }) });
    // The old machine's keys went with it: its address and UUID name nobody now.
    expect(registry.macForIp('10.0.0.50')).toBeUndefined();
    const heard = registry.get(next)!.timeline.length;
    registry.apply({ kind: 'dhcp6.received', time: 70_000, source: 'dhcp6', duid: '00040102', uuid: '8a4f0c2e-1d3b-4c5a-9e6f-0123456789ab', transactionId: 1, messageType: 'SOLICIT', peer: '[fe80::1]:546', summary: '', options: {}, client: 'uefi-pxe' });
    expect(registry.getSnapshot().clients.has(looping)).toBe(false);
    expect(registry.get(next)!.timeline).toHaveLength(heard);
  });

  it('a record handed out (snapshot or get) stays as it was; its entry goes to the collector instead', () => {
    for (const look of ['snapshot', 'get'] as const) {
      const registry = new ClientRegistry({ limits: { maxClients: 1 } });
      for (const event of loopingBoot(looping, 1_000)) registry.apply(event);
      const handedOut = look === 'snapshot' ? registry.getSnapshot().clients.get(looping) : registry.get(looping);
      const asHandedOut = plain(handedOut);
      registry.apply(heardOnce(between, 50_000));
      for (const event of firstDownload(next, 60_000)) registry.apply(event);
      expect(registry.reusedEntries()).toBe(0);
      expect(plain(handedOut)).toEqual(asHandedOut);
      expect(handedOut).toMatchObject({ mac: looping, cycles: 3, stage: 'nbp' });
    }
  });

  it('under a burst of new machines with nobody looking, entries go round instead of being made', () => {
    const registry = new ClientRegistry({ limits: { maxClients: 10 } });
    for (let n = 0; n < 200; n += 1) {
      const mac = `52:54:00:00:${(n >> 8).toString(16).padStart(2, '0')}:${(n & 0xff).toString(16).padStart(2, '0')}` as Mac;
      registry.apply(heardOnce(mac, n));
    }
    expect(registry.getSnapshot().evicted).toBe(190);
    // Each forgotten machine's entry goes to the machine after the one that pushed it out.
    expect(registry.reusedEntries()).toBe(189);
    expect([...registry.getSnapshot().clients.values()].map((record) => record.firstSeen)).toEqual([190, 191, 192, 193, 194, 195, 196, 197, 198, 199]);
  });
});
