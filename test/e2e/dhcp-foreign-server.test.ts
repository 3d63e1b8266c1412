/**
 * Full DHCP must never start beside another DHCP server: the real CLI in a namespace, a real dnsmasq on
 * the same segment (its own namespace), and a dnsmasq already holding UDP 67 in pxedeck's own namespace
 * (what NetworkManager's shared mode looks like).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ForeignDhcpServerEvent } from '../../src/servers/events.js';
import { NetnsLab, netnsUnavailableReason, type NsProcess } from '../support/netns.js';

const skipReason = netnsUnavailableReason(['dnsmasq']);

const SERVER = '10.77.0.1';
const SITE = '10.77.0.2';
const POOL = '10.77.0.100-10.77.0.199';

describe.skipIf(skipReason !== undefined)('full DHCP beside another DHCP server (namespaces, dnsmasq)', () => {
  let lab: NetnsLab;
  let serverNs: string;
  let siteNs: string;
  let site: NsProcess | undefined;

  beforeAll(() => {
    lab = new NetnsLab('F');
    try {
      serverNs = lab.namespace('srv');
      siteNs = lab.namespace('site');
      lab.veth({ ns: serverNs, name: 'srv0', address: `${SERVER}/24` }, { ns: siteNs, name: 'eth0', address: `${SITE}/24` });
    } catch (error) {
      lab.destroySync();
      throw error;
    }
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  function fullMode(extra: readonly string[] = []) {
    return lab.pxedeck(serverNs, ['--interface', 'srv0', '--mode', 'dhcp', '--pool', POOL, '--data-dir', lab.dir, ...extra]);
  }

  /** The address dnsmasq logged offering to pxedeck's probe (chaddr = srv0's MAC). */
  function offeredToProbe(log: string): string | undefined {
    const mac = lab.ip(serverNs, '-o', 'link', 'show', 'srv0').match(/link\/ether ([0-9a-f:]{17})/)![1]!;
    return log.match(new RegExp(`DHCPOFFER\\(eth0\\) (\\S+) ${mac}`))?.[1];
  }

  it('refuses to start, exit code 1, naming the server and the address it offered, and the ways out', async () => {
    // As a site runs it: default config, including the ping check before each new offer.
    site = await lab.dnsmasq(siteNs, 'eth0', ['--dhcp-range=10.77.0.50,10.77.0.59,255.255.255.0,1h'], { label: 'site-dnsmasq' });
    // dnsmasq pings a new client's address for 3 s before it offers; the probe has to outlast that.
    const pxedeck = fullMode(['--probe-ms', '4000']);
    const { code } = await pxedeck.exitWithin(15_000);
    expect(code, pxedeck.tail()).toBe(1);

    const offered = offeredToProbe(site.stderr);
    expect(offered, site.stderr).toMatch(/^10\.77\.0\.5\d$/);
    expect(pxedeck.stderr).toContain(`another DHCP server already answers on srv0: ${SITE} (offered ${offered})`);
    expect(pxedeck.stderr).toContain('--mode proxy');
    expect(pxedeck.stderr).toContain('--force');
    expect(pxedeck.events).toContainEqual(expect.objectContaining({ kind: 'dhcp.foreign-server', server: SITE, offered }));
    // It never served: no socket on 67 was opened, nothing was answered.
    expect(pxedeck.events.filter((event) => event.kind === 'server.listening' || event.kind === 'dhcp.sent')).toEqual([]);
  });

  // dnsmasq's ping check holds a new client's offer for 3 s; the default probe must outlast it (it once
  // ended after 2 s, and pxedeck started serving beside a default-configured dnsmasq).
  it('with the default probe time too, against a client dnsmasq has not pinged yet', async () => {
    await site?.stop();
    // A fresh dnsmasq (no ping cache) and a MAC it has never seen on the probing side.
    lab.setMac(serverNs, 'srv0', '02:77:00:00:01:01');
    site = await lab.dnsmasq(siteNs, 'eth0', ['--dhcp-range=10.77.0.50,10.77.0.59,255.255.255.0,1h'], { label: 'site-dnsmasq-2' });
    const pxedeck = fullMode();
    const { code } = await pxedeck.exitWithin(15_000);
    expect(code, pxedeck.tail()).toBe(1);
    expect(pxedeck.stderr).toContain(`another DHCP server already answers on srv0: ${SITE}`);
    expect(pxedeck.events.filter((event) => event.kind === 'server.listening')).toEqual([]);
  });

  it('starts anyway with --force, still reporting the server it saw', async () => {
    const pxedeck = fullMode(['--probe-ms', '4000', '--force']);
    await pxedeck.listening();
    expect(pxedeck.events).toContainEqual(expect.objectContaining({ kind: 'dhcp.foreign-server', server: SITE }));
    const foreign = pxedeck.events.find((event): event is ForeignDhcpServerEvent => event.kind === 'dhcp.foreign-server')!;
    expect(foreign.offered).toMatch(/^10\.77\.0\.5\d$/);
    expect(pxedeck.events).toContainEqual(expect.objectContaining({ kind: 'server.listening', server: 'dhcp4-full', address: `${SERVER}:67` }));
    expect((await pxedeck.stop()).code).toBe(0);
    await site?.stop();
  });

  it('when dnsmasq holds UDP 67 on the same interface, exits 1 naming dnsmasq, its pid and the way out', async () => {
    // NetworkManager's shared mode: a dnsmasq on this very machine and interface.
    const local = await lab.dnsmasq(serverNs, 'srv0', ['--dhcp-range=10.77.0.50,10.77.0.59,255.255.255.0,1h'], { label: 'local-dnsmasq' });
    const expectation = [`dnsmasq (pid ${local.pid}`, 'Cannot listen on UDP 0.0.0.0:67 on srv0', 'Stop dnsmasq / NetworkManager shared mode'];

    const proxy = lab.pxedeck(serverNs, ['--interface', 'srv0', '--mode', 'proxy', '--data-dir', lab.dir]);
    expect((await proxy.exitWithin(10_000)).code, proxy.tail()).toBe(1);
    for (const text of expectation) expect(proxy.stderr).toContain(text);

    // Full mode gets there too (--force past the probe, which may or may not see the local dnsmasq in time).
    const full = fullMode(['--probe-ms', '300', '--force']);
    expect((await full.exitWithin(10_000)).code, full.tail()).toBe(1);
    for (const text of expectation) expect(full.stderr).toContain(text);
    expect(full.stderr).not.toMatch(/TypeError|at .*\.ts:\d+/);

    await local.stop();
  });
});
