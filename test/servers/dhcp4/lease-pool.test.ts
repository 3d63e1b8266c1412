import { describe, expect, it } from 'vitest';
import type { Mac } from '../../../src/protocol/mac.js';
import { LeasePool, type Lease, type LeaseStore } from '../../../src/servers/dhcp4/lease-pool.js';

const a = '52:54:00:00:00:0a' as Mac;
const b = '52:54:00:00:00:0b' as Mac;
const c = '52:54:00:00:00:0c' as Mac;
const macOf = (n: number) => `02:00:00:00:${(n >> 8).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}` as Mac;

function pool(options: Partial<ConstructorParameters<typeof LeasePool>[0]> = {}, clock = { now: 1_000_000 }) {
  return new LeasePool({ first: '10.0.0.10', last: '10.0.0.12', subnet: '10.0.0.0/24', leaseSeconds: 60, now: () => clock.now, ...options });
}

/** DISCOVER then REQUEST in SELECTING, as a client does. */
function bind(leases: LeasePool, mac: Mac) {
  const ip = leases.offer(mac);
  return ip ? leases.request(mac, ip, 'selecting') : null;
}

describe('lease pool', () => {
  it('gives a reserved MAC its address and nobody else that address', () => {
    const leases = pool({ reservations: new Map([[a, '10.0.0.50']]) });
    expect(leases.offer(a)).toBe('10.0.0.50');
    expect(leases.request(a, '10.0.0.50', 'selecting')).toMatchObject({ ok: true });
    expect(leases.request(b, '10.0.0.50', 'init-reboot')).toEqual({ ok: false, reason: '10.0.0.50 is reserved for 52:54:00:00:00:0a' });
    expect(leases.request(a, '10.0.0.11', 'init-reboot')).toEqual({ ok: false, reason: '52:54:00:00:00:0a is reserved 10.0.0.50, not 10.0.0.11' });
  });

  it('honours a requested free address and never hands an excluded one out', () => {
    const leases = pool({ excluded: ['10.0.0.10'], maxHeldOffers: 10 });
    expect(leases.offer(a, '10.0.0.12')).toBe('10.0.0.12');
    expect(leases.offer(b)).toBe('10.0.0.11');
    expect(leases.offer(c)).toBeNull();
  });

  it('reuses expired leases once the pool is full', () => {
    const clock = { now: 1_000_000 };
    const leases = pool({}, clock);
    for (const mac of [a, b, c]) expect(bind(leases, mac)).toMatchObject({ ok: true });
    expect(leases.offer('52:54:00:00:00:0d' as Mac)).toBeNull();
    clock.now += 61_000;
    expect(leases.offer('52:54:00:00:00:0d' as Mac)).not.toBeNull();
  });

  it('keeps a declined address out for the quarantine time', () => {
    const clock = { now: 1_000_000 };
    const leases = pool({ declineQuarantineMs: 5_000 }, clock);
    const ip = leases.offer(a)!;
    leases.request(a, ip, 'selecting');
    expect(leases.decline(a, ip)).toBe(true);
    expect(leases.offer(b, ip)).not.toBe(ip);
    clock.now += 6_000;
    expect(leases.offer(c, ip)).toBe(ip);
  });

  it('reloads bound leases from the store and drops expired ones', () => {
    const saved: Lease[] = [
      { mac: a, ip: '10.0.0.11', state: 'bound', expiresAt: 2_000_000 },
      { mac: b, ip: '10.0.0.12', state: 'bound', expiresAt: 10 },
    ];
    const store: LeaseStore = { load: () => saved, put: () => undefined, remove: () => undefined };
    const leases = pool({ store });
    expect(leases.leaseFor(a)?.ip).toBe('10.0.0.11');
    expect(leases.leaseFor(b)).toBeUndefined();
    expect(leases.request(c, '10.0.0.11', 'init-reboot')).toMatchObject({ ok: false, silent: true });
    // The client itself gets it back after a reboot, without a DISCOVER.
    expect(leases.request(a, '10.0.0.11', 'init-reboot')).toMatchObject({ ok: true });
  });

  it('tells the store what to keep: bound leases, their renewals and their end', () => {
    const changes: string[] = [];
    const store: LeaseStore = { load: () => [], put: (lease, durable) => (changes.push(`put ${lease.mac} ${lease.ip}`), durable?.()), remove: (mac) => changes.push(`remove ${mac}`) };
    const clock = { now: 1_000_000 };
    const leases = pool({ store }, clock);
    const ip = leases.offer(a)!;
    expect(changes).toEqual([]);
    let acked = 0;
    leases.request(a, ip, 'selecting', undefined, () => (acked += 1));
    leases.request(a, ip, 'renewing', undefined, () => (acked += 1));
    expect(acked).toBe(2);
    leases.release(a, ip);
    expect(changes).toEqual([`put ${a} ${ip}`, `put ${a} ${ip}`, `remove ${a}`]);
  });

  it('refuses a pool outside the subnet or backwards, naming the address', () => {
    expect(() => pool({ first: '10.0.1.10', last: '10.0.1.20' })).toThrow(/10\.0\.1\.10 is outside the interface's subnet 10\.0\.0\.0\/24/);
    expect(() => pool({ first: '10.0.0.20', last: '10.0.0.10' })).toThrow(/first address is after the last/);
  });
});

describe('lease pool against starvation', () => {
  const big = (options: Partial<ConstructorParameters<typeof LeasePool>[0]> = {}, clock = { now: 1_000_000 }) =>
    pool({ first: '10.0.0.100', last: '10.0.0.199', ...options }, clock);
  const legit = '52:54:00:aa:aa:aa' as Mac;

  it('binds nothing for a REQUEST without a DISCOVER before it, whatever state it claims', () => {
    const leases = big();
    for (let n = 0; n < 100; n += 1) {
      const ip = `10.0.0.${100 + n}`;
      const state = (['selecting', 'init-reboot', 'renewing'] as const)[n % 3]!;
      expect(leases.request(macOf(n), ip, state)).toMatchObject({ ok: false });
    }
    expect(leases.leases()).toHaveLength(0);
    expect(bind(leases, legit)).toMatchObject({ ok: true });
  });

  it('NAKs a SELECTING REQUEST with no offer on record, and stays silent on an INIT-REBOOT of a stranger', () => {
    const leases = big();
    expect(leases.request(a, '10.0.0.150', 'selecting')).toEqual({ ok: false, reason: `no offer of 10.0.0.150 on record for ${a} (it must DISCOVER first)` });
    expect(leases.request(a, '10.0.0.150', 'init-reboot')).toEqual({ ok: false, silent: true, reason: `no lease of 10.0.0.150 on record for ${a}` });
    bind(leases, b);
    // A known client asking for an address that is not its own is told so (it starts over with a DISCOVER).
    expect(leases.request(b, '10.0.0.150', 'init-reboot')).toMatchObject({ ok: false, reason: `${b} holds 10.0.0.100, not 10.0.0.150` });
  });

  it('holds at most half the pool in offers: 150 DISCOVERs leave room for a legit client', () => {
    const leases = big();
    for (let n = 0; n < 150; n += 1) expect(leases.offer(macOf(n))).not.toBeNull();
    expect(leases.heldOffers).toBe(50);
    expect(bind(leases, legit)).toMatchObject({ ok: true });
  });

  it('lets an offer go after the hold (10 s by default)', () => {
    const clock = { now: 1_000_000 };
    const leases = big({ maxHeldOffers: 1000 }, clock);
    for (let n = 0; n < 100; n += 1) leases.offer(macOf(n));
    expect(leases.offer(legit)).toBeNull();
    clock.now += 10_001;
    expect(leases.heldOffers).toBe(0);
    expect(bind(leases, legit)).toMatchObject({ ok: true });
  });

  it('takes a DECLINE only from the holder, of our pool, and quarantines at most a quarter of it', () => {
    const leases = big();
    expect(leases.decline(a, '10.0.0.150')).toBe(false);
    expect(leases.decline(a, '192.168.1.1')).toBe(false);
    const ip = leases.offer(b)!;
    expect(leases.decline(a, ip)).toBe(false);
    for (let n = 0; n < 100; n += 1) {
      const mac = macOf(n);
      const offered = leases.offer(mac);
      if (offered) leases.decline(mac, offered);
    }
    // 25 in quarantine at most: the rest of the pool still serves.
    expect(bind(leases, legit)).toMatchObject({ ok: true });
    const free = Array.from({ length: 60 }, (_, n) => leases.offer(macOf(1000 + n))).filter(Boolean);
    expect(free.length).toBeGreaterThanOrEqual(50);
  });
});
