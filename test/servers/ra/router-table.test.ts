/** The router table alone, with times given by hand: how long each kind of advertiser counts. */
import { describe, expect, it } from 'vitest';
import { parseMac } from '../../../src/protocol/mac.js';
import { RouterTable, type HeardAdvert } from '../../../src/servers/ra/router-table.js';

const router: HeardAdvert = { address: 'fe80::1', mac: parseMac('52:54:00:00:00:01')!, managed: false, other: true, routerLifetime: 9, prefixes: ['fd77::/64'] };

describe('RouterTable', () => {
  it('a router counts for its lifetime after each RA, and is reported once per flag set', () => {
    const table = new RouterTable({ zeroLifetimeHoldMs: 30_000 });
    expect(table.heard(router, 1000).kind).toBe('new');
    expect(table.heard(router, 5000).kind).toBe('refreshed');
    expect(table.live(13_999).map((entry) => entry.address)).toEqual(['fe80::1']);
    expect(table.live(14_000)).toEqual([]);
    expect(table.expire(13_999)).toEqual([]);
    expect(table.expire(14_000).map((entry) => entry.address)).toEqual(['fe80::1']);
    expect(table.known()).toEqual([]);
    // Heard again after it was dropped: news again.
    expect(table.heard(router, 20_000).kind).toBe('new');
    expect(table.heard({ ...router, managed: true }, 21_000).kind).toBe('changed');
    // Only "has a lifetime or not" is news, not the exact value.
    expect(table.heard({ ...router, managed: true, routerLifetime: 1800 }, 22_000).kind).toBe('refreshed');
  });

  it('a zero-lifetime advertiser (another pxedeck) counts for the hold after its last RA', () => {
    const table = new RouterTable({ zeroLifetimeHoldMs: 30_000 });
    const peer = { ...router, address: 'fe80::2', routerLifetime: 0 };
    expect(table.heard(peer, 0).kind).toBe('new');
    expect(table.heard(peer, 10_000).kind).toBe('refreshed');
    expect(table.live(39_999)).toHaveLength(1);
    expect(table.live(40_000)).toHaveLength(0);
  });

  it('a router that drops its lifetime to 0 is leaving: it stops counting at once, later zero-lifetime RAs are ignored', () => {
    const table = new RouterTable({ zeroLifetimeHoldMs: 30_000 });
    table.heard(router, 0);
    const withdrew = table.heard({ ...router, routerLifetime: 0 }, 2000);
    expect(withdrew).toMatchObject({ kind: 'withdrew', router: { withdrawn: true, expiresAt: 2000 } });
    expect(table.live(2000)).toEqual([]);
    expect(table.known()).toEqual([]);
    // Already reported when it withdrew: not expired a second time.
    expect(table.expire(100_000)).toEqual([]);
    expect(table.heard({ ...router, routerLifetime: 0 }, 3000).kind).toBe('ignored');
    expect(table.live(3000)).toEqual([]);
    // Offering a lifetime again makes it a router again.
    expect(table.heard(router, 4000).kind).toBe('new');
    expect(table.live(4000)).toHaveLength(1);
  });

  it('remembers a bounded number of routers, dropping the stalest', () => {
    const table = new RouterTable({ zeroLifetimeHoldMs: 30_000, limit: 4 });
    for (let i = 0; i < 10; i += 1) table.heard({ ...router, address: `fe80::${i + 1}` }, i);
    expect(table.known().map((entry) => entry.address)).toEqual(['fe80::7', 'fe80::8', 'fe80::9', 'fe80::10']);
  });
});
