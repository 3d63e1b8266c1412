import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { Header, serverChips } from '../../components/Header.js';
import type { ServerState } from '../../src/state/registry.js';

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
        foreignServers={new Map([['10.77.0.254', { server: '10.77.0.254', lastSeen: 0, offered: '10.77.0.60' }]])}
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

  it('keeps a server error visible even after another socket of the same service reports listening', () => {
    const chips = serverChips(servers([
      { server: 'dhcp4', state: 'error', message: 'sending to 10.77.0.9:68: EPERM' },
      { server: 'dhcp4-proxy', state: 'listening', address: '10.77.0.1:67' },
    ]));
    expect(chips).toEqual([{ label: 'DHCP', state: 'error', text: 'DHCP ✖ sending to 10.77.0.9:68: EPERM' }]);
  });

  it('says when the servers are stopped, and otherwise shows the latest warning', () => {
    const props = { mode: 'proxy', interfaceName: 'lo', serverAddress: '127.0.0.1', servers: new Map(), foreignServers: new Map(), counts, selected: 0, sort: 'recent', filter: '', now: 0, width: 120 } as const;
    const stopped = render(<Header {...props} notes={[]} isRunning={false} />);
    expect(stopped.lastFrame()).toMatch(/servers are stopped/);
    const warned = render(<Header {...props} notes={[{ time: 0, level: 'warning', text: 'undionly.kpxe not found; fix: apt install ipxe' }]} isRunning />);
    expect(warned.lastFrame()).toMatch(/! undionly\.kpxe not found; fix: apt install ipxe/);
  });
});
