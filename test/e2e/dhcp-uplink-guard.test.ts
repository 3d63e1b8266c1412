/**
 * Full DHCP on the interface that holds the laptop's default route is a rogue DHCP server on someone's LAN:
 * the real CLI refuses it unless the operator confirms with --allow-dhcp-on-uplink; proxy mode there is its
 * purpose and starts as ever. The "LAN" is a namespace with a router address and nothing else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetnsLab, netnsUnavailableReason } from '../support/netns.js';

const skipReason = netnsUnavailableReason();

describe.skipIf(skipReason !== undefined)('full DHCP on the uplink (namespaces)', () => {
  let lab: NetnsLab;
  let laptopNs: string;

  beforeAll(() => {
    lab = new NetnsLab('U');
    try {
      laptopNs = lab.namespace('laptop');
      const lanNs = lab.namespace('lan');
      lab.veth({ ns: laptopNs, name: 'uplink0', address: '10.77.4.2/24' }, { ns: lanNs, name: 'eth0', address: '10.77.4.1/24' });
      lab.veth({ ns: laptopNs, name: 'bench0', address: '10.77.5.1/24' }, { ns: lab.namespace('bench'), name: 'eth0' });
    } catch (error) {
      lab.destroySync();
      throw error;
    }
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  const fullMode = (iface: string, pool: string, extra: readonly string[] = []) =>
    lab.pxedeck(laptopNs, ['--interface', iface, '--mode', 'dhcp', '--pool', pool, '--probe-ms', '300', '--data-dir', lab.dir, ...extra]);

  it('refuses without the confirmation, naming the interface, why, and every way out; nothing was opened', async () => {
    lab.ip(laptopNs, 'route', 'add', 'default', 'via', '10.77.4.1', 'dev', 'uplink0');
    const refused = fullMode('uplink0', '10.77.4.100-10.77.4.199');
    expect((await refused.exitWithin(10_000)).code, refused.tail()).toBe(1);
    expect(refused.stderr).toContain('refusing full DHCP on uplink0: it holds this machine\'s default route');
    for (const wayOut of ['--interface NAME', '--mode proxy', '--allow-dhcp-on-uplink']) expect(refused.stderr).toContain(wayOut);
    expect(refused.events.filter((event) => event.kind === 'server.listening' || event.kind === 'dhcp.foreign-server')).toEqual([]);
  });

  it('starts with --allow-dhcp-on-uplink; proxy mode on the uplink and full DHCP on the bench port need nothing', async () => {
    const confirmed = fullMode('uplink0', '10.77.4.100-10.77.4.199', ['--allow-dhcp-on-uplink']);
    await confirmed.waitForEvent((event) => event.kind === 'server.listening' && event.server === 'dhcp4-full', 'full DHCP listening on uplink0');
    expect((await confirmed.stop()).code).toBe(0);

    const proxy = lab.pxedeck(laptopNs, ['--interface', 'uplink0', '--mode', 'proxy', '--data-dir', lab.dir]);
    await proxy.waitForEvent((event) => event.kind === 'server.listening' && event.server === 'dhcp4-proxy', 'proxy DHCP listening on uplink0');
    expect((await proxy.stop()).code).toBe(0);

    const bench = fullMode('bench0', '10.77.5.100-10.77.5.199');
    await bench.waitForEvent((event) => event.kind === 'server.listening' && event.server === 'dhcp4-full', 'full DHCP listening on bench0');
    expect((await bench.stop()).code).toBe(0);
  });

  it('an IPv6 default route alone is an uplink too', async () => {
    lab.ip(laptopNs, 'route', 'del', 'default');
    lab.ip(laptopNs, '-6', 'addr', 'add', 'fd77:4::2/64', 'dev', 'uplink0', 'nodad');
    lab.ip(laptopNs, '-6', 'route', 'add', 'default', 'via', 'fd77:4::1', 'dev', 'uplink0');
    const refused = fullMode('uplink0', '10.77.4.100-10.77.4.199');
    expect((await refused.exitWithin(10_000)).code, refused.tail()).toBe(1);
    expect(refused.stderr).toContain('refusing full DHCP on uplink0');
  });
});
