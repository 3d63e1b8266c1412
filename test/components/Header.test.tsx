import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { foreignServerLine, Header, routerAdvertText, serverChips } from '../../components/Header.js';
import { leaseStoreEvent } from '../../src/runtime/lease-store-state.js';
import { ClientRegistry, type ServerState } from '../../src/state/registry.js';
import type { RouterAdvertView } from '../../src/state/router-adverts.js';

const counts = { seen: 42, booting: 5, booted: 30, failed: 1, looping: 1, held: 2, stalled: 3, waiting: 0 };

function servers(list: ServerState[]) {
  return new Map(list.map((server) => [server.server, server]));
}

describe('Header', () => {
  it('shows mode, interface, each server, counts and a foreign DHCP server', () => {
    const { lastFrame } = render(
      <Header
        mode="dhcp"
        interfaceName="enp3s0"
        serverAddress="10.77.0.1"
        servers={servers([
          { server: 'dhcp4-full', state: 'listening', address: '10.77.0.1:67' },
          { server: 'tftp', state: 'error', message: 'UDP 69 in use by dnsmasq, pid 1234' },
          { server: 'http', state: 'listening', address: '10.77.0.1:80' },
        ])}
        foreignServers={new Map([['10.77.0.254', { server: '10.77.0.254', lastSeen: 0, offered: '10.77.0.60', offers: [] }]])}
        counts={counts}
        selected={3}
        sort="recent"
        filter=""
        notes={[]}
        now={Date.UTC(2026, 0, 1, 12, 0, 0)}
        width={140}
        isRunning
      />,
    );
    const frame = lastFrame()!;
    expect(frame).toMatch(/pxedeck · full DHCP · enp3s0 10\.77\.0\.1/);
    expect(frame).toMatch(/DHCP ●:67 {2}TFTP ✖ UDP 69 in use by dnsmasq, pid 1234 {2}HTTP ●:80/);
    expect(frame).toMatch(/seen 42 {2}booting 5 {2}booted 30 {2}failed 1 {2}looping 1 {2}held 2 {2}stalled 3 {2}selected 3/);
    expect(frame).toMatch(/other DHCP server on this segment: 10\.77\.0\.254 \(offered 10\.77\.0\.60\)/);
  });

  it('in proxy mode the site DHCP server is a quiet line, and a warning once it hands out a boot file', () => {
    const site = { server: '10.77.0.2', lastSeen: 0, offered: '10.77.0.55', offers: [] };
    expect(foreignServerLine('proxy', [site])).toEqual({ text: 'site DHCP server beside us: 10.77.0.2 (offered 10.77.0.55)', color: 'gray' });
    expect(foreignServerLine('proxy', [{ ...site, bootFile: 'undionly.kpxe' }])).toEqual({
      text: '⚠ site DHCP 10.77.0.2 hands out boot file undionly.kpxe: PXE clients may boot it instead of ours',
      color: 'yellow',
    });
    expect(foreignServerLine('dhcp', [site])?.color).toBe('yellow');
    expect(foreignServerLine('proxy', [])).toBeUndefined();
  });

  it('keeps a server error visible even after another socket of the same service reports listening', () => {
    const chips = serverChips(servers([
      { server: 'dhcp4', state: 'error', message: 'sending to 10.77.0.9:68: EPERM' },
      { server: 'dhcp4-proxy', state: 'listening', address: '10.77.0.1:67' },
    ]));
    expect(chips).toEqual([{ label: 'DHCP', state: 'error', text: 'DHCP ✖ sending to 10.77.0.9:68: EPERM' }]);
  });

  it('shows the lease file as a service of full DHCP: red with the reason while writes fail, green once they succeed', () => {
    const registry = new ClientRegistry();
    registry.apply(leaseStoreEvent('server.listening', 'leases', '/var/lib/pxedeck/leases.json'));
    registry.apply(leaseStoreEvent('server.error', 'leases', '/var/lib/pxedeck/leases.json', 'writing leases failed (ENOSPC: no space left on device, write); 3 ACKs held back, retrying'));
    expect(serverChips(registry.getSnapshot().servers)).toEqual([
      { label: 'LEASES', state: 'error', text: 'LEASES ✖ writing leases failed (ENOSPC: no space left on device, write); 3 ACKs held back, retrying' },
    ]);
    registry.apply(leaseStoreEvent('server.listening', 'leases', '/var/lib/pxedeck/leases.json'));
    expect(serverChips(registry.getSnapshot().servers)).toEqual([{ label: 'LEASES', state: 'listening', text: 'LEASES ●' }]);
  });

  it('an IPv6-only port: DHCP and 4011 read "n/a" (gray), not an error, beside the IPv6 listeners', () => {
    const chips = serverChips(servers([
      { server: 'dhcp4', state: 'not-applicable', message: 'bench0 has no IPv4 address (IPv6 only)' },
      { server: 'pxe-boot-server', state: 'not-applicable', message: 'bench0 has no IPv4 address (IPv6 only)' },
      { server: 'http', state: 'listening', address: '[fd77::1]:80' },
    ]));
    expect(chips).toEqual([
      { label: 'DHCP', state: 'not-applicable', text: 'DHCP n/a' },
      { label: '4011', state: 'not-applicable', text: '4011 n/a' },
      { label: 'HTTP', state: 'listening', text: 'HTTP ●:80' },
    ]);
    const { lastFrame } = render(
      <Header mode="dhcp" interfaceName="bench0" serverAddress="fd77::1" servers={servers([{ server: 'dhcp4', state: 'not-applicable' }])} foreignServers={new Map()} counts={counts} selected={0} sort="recent" filter="" notes={[]} now={0} width={120} isRunning />,
    );
    expect(lastFrame()).toMatch(/bench0 fd77::1/);
    expect(lastFrame()).toMatch(/DHCP n\/a/);
  });

  it('says when the servers are stopped, and otherwise shows the latest warning', () => {
    const props = { mode: 'proxy', interfaceName: 'lo', serverAddress: '127.0.0.1', servers: new Map(), foreignServers: new Map(), counts, selected: 0, sort: 'recent', filter: '', now: 0, width: 120 } as const;
    const stopped = render(<Header {...props} notes={[]} isRunning={false} />);
    expect(stopped.lastFrame()).toMatch(/servers are stopped/);
    const warned = render(<Header {...props} notes={[{ time: 0, level: 'warning', text: 'undionly.kpxe not found; fix: apt install ipxe' }]} isRunning />);
    expect(warned.lastFrame()).toMatch(/! undionly\.kpxe not found; fix: apt install ipxe/);
  });

  it('says how many older machines the registry forgot to stay within its bound', () => {
    const props = { mode: 'proxy', interfaceName: 'lo', serverAddress: '127.0.0.1', servers: new Map(), foreignServers: new Map(), counts, selected: 0, sort: 'recent', filter: '', now: 0, width: 120, notes: [], isRunning: true } as const;
    expect(render(<Header {...props} evicted={99_000} />).lastFrame()).toMatch(/seen 42 \(\+99000 older forgotten\) {2}booting 5/);
    expect(render(<Header {...props} evicted={0} />).lastFrame()).toMatch(/seen 42 {2}booting 5/);
  });

  describe('who advertises as IPv6 router, on the title line', () => {
    const props = { mode: 'proxy', interfaceName: 'enp3s0', serverAddress: '10.77.0.1', servers: new Map(), foreignServers: new Map(), counts, selected: 0, sort: 'recent', filter: '', notes: [], now: Date.UTC(2026, 0, 1, 12, 0, 0), isRunning: true } as const;
    const router = { address: 'fe80::5054:ff:fe12:3456', managed: false, other: true, routerLifetime: 1800, prefixes: ['fd77::/64', '2001:db8:77::/64'], since: 0 };
    const foreign: RouterAdvertView = { service: 'deferring', interface: 'enp3s0', routers: [router] };
    const ours: RouterAdvertView = { service: 'advertising', interface: 'enp3s0', ours: { managed: true, other: true, routerLifetime: 30, prefixes: ['fd77::/64'], since: 0 }, routers: [] };
    const frame = (routerAdverts: RouterAdvertView | undefined, width: number) => {
      const text = render(<Header {...props} {...(routerAdverts && { routerAdverts })} width={width} />).lastFrame()!;
      for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(width);
      return text.split('\n')[0]!;
    };

    it('120 columns: a foreign router with its link-local address, flags, lifetime and prefixes', () => {
      // Two prefixes do not fit beside the title: they go first.
      expect(frame(foreign, 120)).toMatch(/^pxedeck · proxyDHCP · enp3s0 10\.77\.0\.1 {2}RA: router fe80::5054:ff:fe12:3456 · O · lifetime 1800 s +12:00$/);
      expect(frame({ ...foreign, routers: [{ ...router, prefixes: ['fd77::/64'] }] }, 120)).toMatch(
        /^pxedeck · proxyDHCP · enp3s0 10\.77\.0\.1 {2}RA: router fe80::5054:ff:fe12:3456 · O · lifetime 1800 s · fd77::\/64 +12:00$/,
      );
      expect(frame(ours, 120)).toMatch(/^pxedeck · proxyDHCP · enp3s0 10\.77\.0\.1 {2}RA: pxedeck · M O · lifetime 30 s · fd77::\/64 +12:00$/);
      // Proxy mode's lifetime 0 is shown too: pxedeck advertises, but is nobody's default router.
      const proxyOurs: RouterAdvertView = { ...ours, ours: { ...ours.ours!, managed: false, routerLifetime: 0 } };
      expect(frame(proxyOurs, 120)).toMatch(/10\.77\.0\.1 {2}RA: pxedeck · O · lifetime 0 s · fd77::\/64 +12:00$/);
      // Two prefixes do not fit beside the title: they go first, the lifetime stays.
      expect(frame({ ...ours, ours: { ...ours.ours!, prefixes: ['fd77:1234:5678:9abc::/64', '2001:db8:77:1234::/64'] } }, 120)).toMatch(
        /10\.77\.0\.1 {2}RA: pxedeck · M O · lifetime 30 s +12:00$/,
      );
    });

    it('80 columns and fewer: who and the flags, the lifetime and prefixes left out as room runs out (our own prefix kept when it fits)', () => {
      expect(frame(foreign, 80)).toMatch(/^pxedeck · proxyDHCP · enp3s0 10\.77\.0\.1 {2}RA: fe80::5054:ff:fe12:3456 O +12:00$/);
      expect(frame({ ...ours, ours: { ...ours.ours!, prefixes: [] } }, 80)).toMatch(/^pxedeck · proxyDHCP · enp3s0 10\.77\.0\.1 {2}RA: pxedeck · M O · lifetime 30 s +12:00$/);
      expect(frame(ours, 80)).toMatch(/^pxedeck · proxyDHCP · enp3s0 10\.77\.0\.1 {2}RA: pxedeck · M O · lifetime 30 s +12:00$/);
      // Three columns fewer: the lifetime goes, the prefix stays.
      expect(frame(ours, 77)).toMatch(/^pxedeck · proxyDHCP · enp3s0 10\.77\.0\.1 {2}RA: pxedeck · M O · fd77::\/64 +12:00$/);
      expect(frame({ service: 'deferring', routers: [] }, 80)).toMatch(/10\.77\.0\.1 {2}RA: none +12:00$/);
      expect(frame({ service: 'listening', routers: [] }, 80)).toMatch(/10\.77\.0\.1 {2}RA: asking for routers… +12:00$/);
    });

    it('nothing about routers without IPv6, and the title is never cut to make room', () => {
      expect(frame(undefined, 80)).toMatch(/^pxedeck · proxyDHCP · enp3s0 10\.77\.0\.1 +12:00$/);
      expect(frame({ service: 'off', routers: [] }, 80)).not.toMatch(/RA/);
      const long = render(<Header {...props} interfaceName="enx00e04c680123" serverAddress="192.168.100.200" routerAdverts={foreign} width={66} />).lastFrame()!;
      expect(long.split('\n')[0]).toMatch(/^pxedeck · proxyDHCP · enx00e04c680123 192\.168\.100\.200 +12:00$/);
    });

    it('a router without M and O is flagged: firmware would never ask DHCPv6', () => {
      const text = routerAdvertText({ ...foreign, routers: [{ ...router, other: false }] }, 40);
      expect(text).toEqual({ text: 'RA: fe80::5054:ff:fe12:3456 no M/O', color: 'yellow' });
      expect(routerAdvertText(ours, 45)).toEqual({ text: 'RA: pxedeck · M O · lifetime 30 s · fd77::/64', color: 'green' });
      expect(routerAdvertText(ours, 33)).toEqual({ text: 'RA: pxedeck · M O · lifetime 30 s', color: 'green' });
      expect(routerAdvertText(ours, 20)).toEqual({ text: 'RA: pxedeck · M O', color: 'green' });
      expect(routerAdvertText(ours, 16)).toEqual({ text: 'RA: pxedeck M O', color: 'green' });
      expect(routerAdvertText(foreign, 5)).toBeUndefined();
    });
  });
});
