import { describe, expect, it } from 'vitest';
import type { Mac } from '../../../src/protocol/mac.js';
import { LeasePool, type Lease, type LeaseStore } from '../../../src/servers/dhcp4/lease-pool.js';

const a = '52:54:00:00:00:0a' as Mac;
const b = '52:54:00:00:00:0b' as Mac;
const c = '52:54:00:00:00:0c' as Mac;

function pool(options: Partial<ConstructorParameters<typeof LeasePool>[0]> = {}, clock = { now: 1_000_000 }) {
  return new LeasePool({ first: '10.0.0.10', last: '10.0.0.12', subnet: '10.0.0.0/24', leaseSeconds: 60, now: () => clock.now, ...options });
}

describe('lease pool', () => {
  it('gives a reserved MAC its address and nobody else that address', () => {
    const leases = pool({ reservations: new Map([[a, '10.0.0.50']]) });
    expect(leases.offer(a)).toBe('10.0.0.50');
    expect(leases.request(a, '10.0.0.50')).toMatchObject({ ok: true });
    expect(leases.request(b, '10.0.0.50')).toEqual({ ok: false, reason: '10.0.0.50 is reserved for 52:54:00:00:00:0a' });
    expect(leases.request(a, '10.0.0.11')).toEqual({ ok: false, reason: '52:54:00:00:00:0a is reserved 10.0.0.50, not 10.0.0.11' });
  });

  it('honours a requested free address and never hands an excluded one out', () => {
    const leases = pool({ excluded: ['10.0.0.10'] });
    expect(leases.offer(a, '10.0.0.12')).toBe('10.0.0.12');
    expect(leases.offer(b)).toBe('10.0.0.11');
    expect(leases.offer(c)).toBeNull();
  });

  it('reuses expired leases once the pool is full', () => {
    const clock = { now: 1_000_000 };
    const leases = pool({}, clock);
    for (const mac of [a, b, c]) expect(leases.request(mac, leases.offer(mac)!)).toMatchObject({ ok: true });
    expect(leases.offer('52:54:00:00:00:0d' as Mac)).toBeNull();
    clock.now += 61_000;
    expect(leases.offer('52:54:00:00:00:0d' as Mac)).not.toBeNull();
  });

  it('keeps a declined address out for the quarantine time', () => {
    const clock = { now: 1_000_000 };
    const leases = pool({ declineQuarantineMs: 5_000 }, clock);
    const ip = leases.offer(a)!;
    leases.request(a, ip);
    expect(leases.decline(a, ip)).toBe(true);
    expect(leases.request(b, ip)).toEqual({ ok: false, reason: `${ip} was declined recently` });
    clock.now += 6_000;
    expect(leases.request(b, ip)).toMatchObject({ ok: true });
  });

  it('reloads bound leases from the store and drops expired ones', () => {
    const saved: Lease[] = [
      { mac: a, ip: '10.0.0.11', state: 'bound', expiresAt: 2_000_000 },
      { mac: b, ip: '10.0.0.12', state: 'bound', expiresAt: 10 },
    ];
    const store: LeaseStore = { load: () => saved, save: () => undefined };
    const leases = pool({ store });
    expect(leases.leaseFor(a)?.ip).toBe('10.0.0.11');
    expect(leases.leaseFor(b)).toBeUndefined();
    expect(leases.request(c, '10.0.0.11')).toEqual({ ok: false, reason: '10.0.0.11 is leased to 52:54:00:00:00:0a' });
  });

  it('refuses a pool outside the subnet or backwards, naming the address', () => {
    expect(() => pool({ first: '10.0.1.10', last: '10.0.1.20' })).toThrow(/10\.0\.1\.10 is outside the interface's subnet 10\.0\.0\.0\/24/);
    expect(() => pool({ first: '10.0.0.20', last: '10.0.0.10' })).toThrow(/first address is after the last/);
  });
});
