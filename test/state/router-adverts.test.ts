/** The RA service's events folded into "who advertises on the segment", through the registry as the console reads it. */
import { describe, expect, it } from 'vitest';
import type { PxedeckEvent } from '../../src/servers/events.js';
import { ClientRegistry } from '../../src/state/registry.js';
import { foldRouterAdvert, noRouterAdverts, segmentAdvertiser } from '../../src/state/router-adverts.js';

const base = { source: 'ra', interface: 'bench0' } as const;
const listening: PxedeckEvent = { kind: 'server.listening', time: 0, source: 'ra', server: 'ra', address: 'icmpv6 bench0' };
const seen = (time: number, router: string, routerLifetime: number): PxedeckEvent => ({ kind: 'ra.router-seen', time, ...base, router, managed: false, other: true, routerLifetime, prefixes: ['fd77::/64'] });

function fold(events: readonly PxedeckEvent[]) {
  return events.reduce(foldRouterAdvert, noRouterAdverts);
}

describe('router advertisements on the segment', () => {
  it('nothing is known without an RA service; listening, then nobody', () => {
    expect(segmentAdvertiser(noRouterAdverts)).toBeUndefined();
    expect(segmentAdvertiser(fold([listening]))).toEqual({ kind: 'none', isListening: true });
  });

  it('a router that answered: its address, flags, lifetime and prefixes', () => {
    const view = fold([listening, seen(100, 'fe80::1', 1800)]);
    expect(view).toMatchObject({ service: 'deferring', interface: 'bench0' });
    expect(segmentAdvertiser(view)).toEqual({
      kind: 'router',
      others: 0,
      router: { address: 'fe80::1', managed: false, other: true, routerLifetime: 1800, prefixes: ['fd77::/64'], since: 100 },
    });
  });

  it('pxedeck while it advertises; the router again once it is back; nobody after it left and before we resume', () => {
    const started: PxedeckEvent = { kind: 'ra.started', time: 200, ...base, managed: true, other: true, routerLifetime: 0, prefixes: ['fd77::/64'], reason: 'no router answered within 3000 ms' };
    const ours = fold([listening, started]);
    expect(segmentAdvertiser(ours)).toEqual({ kind: 'pxedeck', others: 0, ours: { managed: true, other: true, routerLifetime: 0, prefixes: ['fd77::/64'], since: 200 } });
    const back = fold([listening, started, seen(300, 'fe80::1', 1800), { kind: 'ra.stopped', time: 300, ...base, reason: 'router fe80::1 advertises on bench0' }]);
    expect(segmentAdvertiser(back)).toMatchObject({ kind: 'router', router: { address: 'fe80::1' } });
    const left = fold([listening, seen(100, 'fe80::1', 1800), { kind: 'ra.router-gone', time: 400, ...base, router: 'fe80::1', reason: 'it advertised router lifetime 0' }]);
    expect(segmentAdvertiser(left)).toEqual({ kind: 'none', isListening: false });
  });

  it('a router with a lifetime is named before a zero-lifetime advertiser; a changed flag set replaces the entry', () => {
    const view = fold([listening, seen(100, 'fe80::99', 0), seen(150, 'fe80::1', 1800), { ...seen(160, 'fe80::1', 1800), managed: true } as PxedeckEvent]);
    expect(segmentAdvertiser(view)).toMatchObject({ kind: 'router', others: 1, router: { address: 'fe80::1', managed: true, since: 150 } });
  });

  it('closing forgets the segment (a restart reports it afresh)', () => {
    const view = fold([listening, seen(100, 'fe80::1', 1800), { kind: 'server.closed', time: 500, source: 'ra', server: 'ra' }]);
    expect(view).toEqual({ service: 'closed', interface: 'bench0', routers: [] });
    expect(segmentAdvertiser(view)).toEqual({ kind: 'none', isListening: false });
  });

  it('the registry snapshot carries it, without making the router a client row', () => {
    const registry = new ClientRegistry();
    const before = registry.getSnapshot();
    for (const event of [listening, seen(100, 'fe80::1', 1800)]) registry.apply(event);
    const snapshot = registry.getSnapshot();
    expect(snapshot).not.toBe(before);
    expect(segmentAdvertiser(snapshot.routerAdverts)).toMatchObject({ kind: 'router', router: { address: 'fe80::1' } });
    expect(snapshot.clients.size).toBe(0);
    // Other events leave the view as it was (same object: cheap to compare in a render).
    registry.apply({ kind: 'notice', time: 600, source: 'system', level: 'info', message: 'hello' });
    expect(registry.getSnapshot().routerAdverts).toBe(snapshot.routerAdverts);
  });
});
