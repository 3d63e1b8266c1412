// The registry's memory bound: records and events over all records, least recently seen forgotten first.
import { describe, expect, it } from 'vitest';
import type { Mac } from '../../src/protocol/mac.js';
import type { PxedeckEvent } from '../../src/servers/events.js';
import { ClientKeys, KEYS_PER_MACHINE, NO_KEYS, type KeyHolder } from '../../src/state/client-keys.js';
import { ClientRegistry, DEFAULT_REGISTRY_LIMITS } from '../../src/state/registry.js';

const macOf = (n: number) => `52:54:${[n >>> 24, n >>> 16, n >>> 8, n].map((byte) => (byte & 0xff).toString(16).padStart(2, '0')).join(':')}` as Mac;

function discover(time: number, mac: Mac): PxedeckEvent {
  return { kind: 'dhcp.received', time, source: 'dhcp4', mac, xid: time, messageType: 'DISCOVER', peer: '0.0.0.0:68', summary: '', options: {}, client: 'BIOS PXE' };
}

function offer(time: number, mac: Mac, ip: string): PxedeckEvent {
  return { kind: 'dhcp.sent', time, source: 'dhcp4', mac, xid: time, messageType: 'OFFER', peer: 'x', summary: '', options: {}, yiaddr: ip, ip };
}

describe('registry bounds', () => {
  it('forgets the machine seen least recently past maxClients, with everything that pointed at it', () => {
    const registry = new ClientRegistry({ limits: { maxClients: 3 } });
    for (let n = 1; n <= 3; n += 1) registry.apply(offer(n, macOf(n), `10.0.0.${n}`));
    registry.apply(discover(4, macOf(1)));
    registry.apply(offer(5, macOf(4), '10.0.0.4'));
    const snapshot = registry.getSnapshot();
    expect([...snapshot.clients.keys()]).toEqual([macOf(3), macOf(1), macOf(4)]);
    expect(snapshot.evicted).toBe(1);
    expect(snapshot.limits).toEqual({ ...DEFAULT_REGISTRY_LIMITS, maxClients: 3 });
    expect(registry.macForIp('10.0.0.2')).toBeUndefined();
    expect(registry.macForIp('10.0.0.1')).toBe(macOf(1));
    // An HTTP request from the forgotten machine's old address no longer lands anywhere.
    registry.apply({ kind: 'http.request', time: 6, source: 'http', ip: '10.0.0.2', method: 'GET', path: '/x', status: 404, route: 'file', durationMs: 1 });
    expect(registry.get(macOf(2))).toBeUndefined();
  });

  it('a forgotten machine that comes back starts a fresh record', () => {
    const registry = new ClientRegistry({ limits: { maxClients: 2 } });
    registry.apply(discover(1, macOf(1)));
    registry.apply(offer(2, macOf(1), '10.0.0.1'));
    registry.apply(discover(3, macOf(2)));
    registry.apply(discover(4, macOf(3)));
    expect(registry.get(macOf(1))).toBeUndefined();
    registry.apply(discover(5, macOf(1)));
    expect(registry.get(macOf(1))).toMatchObject({ firstSeen: 5, cycles: 1, stage: 'dhcp' });
    expect(registry.get(macOf(1))!.timeline.slice()).toEqual([expect.objectContaining({ time: 5 })]);
    expect(registry.get(macOf(1))!.ip).toBeUndefined();
    expect(registry.getSnapshot().evicted).toBe(2);
  });

  it('bounds the events held over all records, never forgetting the machine that just spoke', () => {
    const registry = new ClientRegistry({ timelineLimit: 10, limits: { maxEvents: 25 } });
    for (let time = 1; time <= 10; time += 1) registry.apply(discover(time, macOf(1)));
    for (let time = 11; time <= 20; time += 1) registry.apply(discover(time, macOf(2)));
    expect(registry.getSnapshot().clients.size).toBe(2);
    for (let time = 21; time <= 26; time += 1) registry.apply(discover(time, macOf(3)));
    expect([...registry.getSnapshot().clients.keys()]).toEqual([macOf(2), macOf(3)]);
    const alone = new ClientRegistry({ timelineLimit: 10, limits: { maxEvents: 5 } });
    for (let time = 1; time <= 20; time += 1) alone.apply(discover(time, macOf(1)));
    expect(alone.get(macOf(1))!.timeline).toHaveLength(10);
  });

  it('holds at most maxClients records after 100,000 made-up MACs', () => {
    const registry = new ClientRegistry();
    for (let n = 0; n < 100_000; n += 1) {
      registry.apply(discover(n, macOf(n)));
      registry.apply(offer(n, macOf(n), `10.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`));
    }
    const snapshot = registry.getSnapshot();
    expect(snapshot.clients.size).toBe(DEFAULT_REGISTRY_LIMITS.maxClients);
    expect(snapshot.evicted).toBe(100_000 - DEFAULT_REGISTRY_LIMITS.maxClients);
    expect(registry.macForIp('10.0.0.0')).toBeUndefined();
    expect(registry.macForIp('10.1.134.159')).toBe(macOf(99_999));
  });
});

describe('ClientKeys', () => {
  const mac = macOf(1);
  const other = macOf(2);

  it('keeps the latest keys per machine and leaves a key that moved to another machine with it', () => {
    const keys = new ClientKeys();
    const held: KeyHolder = { keys: NO_KEYS, spareKeys: undefined };
    const otherHeld: KeyHolder = { keys: NO_KEYS, spareKeys: undefined };
    for (let n = 0; n < KEYS_PER_MACHINE + 3; n += 1) keys.link(mac, held, 'ip', `10.0.0.${n}`);
    expect(keys.size).toBe(KEYS_PER_MACHINE);
    expect(held.keys).toHaveLength(KEYS_PER_MACHINE);
    expect(keys.find('ip', '10.0.0.0')).toBeUndefined();
    expect(keys.find('ip', `10.0.0.${KEYS_PER_MACHINE + 2}`)).toBe(mac);
    keys.link(other, otherHeld, 'ip', `10.0.0.${KEYS_PER_MACHINE + 2}`);
    keys.forget(mac, held);
    expect(keys.find('ip', `10.0.0.${KEYS_PER_MACHINE + 2}`)).toBe(other);
    expect(keys.size).toBe(1);
    expect(NO_KEYS).toHaveLength(0);
  });

  it('tells kinds apart: an address and a DUID of the same text are two keys', () => {
    const keys = new ClientKeys();
    keys.link(mac, { keys: NO_KEYS, spareKeys: undefined }, 'ip', 'fe80::1');
    keys.link(other, { keys: NO_KEYS, spareKeys: undefined }, 'duid', 'fe80::1');
    expect(keys.find('ip', 'fe80::1')).toBe(mac);
    expect(keys.find('duid', 'fe80::1')).toBe(other);
    expect(keys.find('uuid', 'fe80::1')).toBeUndefined();
  });

  it('a holder that will serve a new machine keeps its list for that machine\'s first key; the old keys name nobody', () => {
    const keys = new ClientKeys();
    const held: KeyHolder = { keys: NO_KEYS, spareKeys: undefined };
    keys.link(mac, held, 'ip', '10.0.0.1');
    keys.link(mac, held, 'uuid', 'aa-bb');
    const list = held.keys;
    keys.forget(mac, held, true);
    expect(held.keys).toBe(NO_KEYS);
    expect(keys.size).toBe(0);
    keys.link(other, held, 'ip', '10.0.0.9');
    expect(held.keys).toBe(list);
    expect(held.keys).toEqual([{ kind: 'ip', value: '10.0.0.9' }]);
    expect(keys.find('ip', '10.0.0.9')).toBe(other);
    expect(keys.find('ip', '10.0.0.1')).toBeUndefined();
    expect(keys.find('uuid', 'aa-bb')).toBeUndefined();
    // Without keepList the list goes with the machine.
    keys.forget(other, held);
    keys.link(mac, held, 'ip', '10.0.0.1');
    expect(held.keys).not.toBe(list);
    expect(NO_KEYS).toHaveLength(0);
  });

  it('a key seen again moves to the newest place instead of being held twice', () => {
    const keys = new ClientKeys();
    const held: KeyHolder = { keys: NO_KEYS, spareKeys: undefined };
    keys.link(mac, held, 'ip', '10.0.0.1');
    keys.link(mac, held, 'ip', '10.0.0.2');
    keys.link(mac, held, 'ip', '10.0.0.1');
    expect(held.keys).toEqual([
      { kind: 'ip', value: '10.0.0.2' },
      { kind: 'ip', value: '10.0.0.1' },
    ]);
  });
});
