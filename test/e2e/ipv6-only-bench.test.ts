/**
 * An IPv6-only bench port (the Ceph rack seed: "No IPv4 in this network present"): the real CLI starts on an
 * interface with only IPv6 addresses, serves TFTP, HTTP and syslog on its IPv6 address, says DHCPv4 and the
 * PXE boot server do not apply (not failed), and says what proxy mode does there; an interface with neither
 * family is a clear error. Namespaces only; test/e2e/boot-ipv6.test.ts boots real firmware on such a server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PxedeckEvent } from '../../src/servers/events.js';
import { NetnsLab, netnsUnavailableReason } from '../support/netns.js';

const skipReason = netnsUnavailableReason(['curl']);

describe.skipIf(skipReason !== undefined)(`IPv6-only bench port (namespaces)${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let lab: NetnsLab;
  let serverNs: string;
  let benchNs: string;

  beforeAll(async () => {
    lab = new NetnsLab('e');
    try {
      serverNs = lab.namespace('srv');
      benchNs = lab.namespace('bench');
      lab.veth({ ns: serverNs, name: 'bench0', mac: '02:77:0e:00:00:01' }, { ns: benchNs, name: 'eth0' });
      lab.ip(serverNs, '-6', 'addr', 'add', 'fd77:e::1/64', 'dev', 'bench0', 'nodad');
      lab.ip(benchNs, '-6', 'addr', 'add', 'fd77:e::50/64', 'dev', 'eth0', 'nodad');
      // A second port with only its link-local address: neither family a boot URL could name.
      lab.veth({ ns: serverNs, name: 'bare0' }, { ns: benchNs, name: 'eth1' });
      await lab.linkLocalReady(serverNs, 'bare0');
    } catch (error) {
      lab.destroySync();
      throw error;
    }
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  const start = (args: readonly string[]) =>
    lab.pxedeck(serverNs, ['--interface', 'bench0', '--data-dir', `${lab.dir}/${Math.random().toString(36).slice(2)}`, '--syslog-port', '5514', ...args]);
  const notApplicable = (events: readonly PxedeckEvent[]) =>
    events.flatMap((event) => (event.kind === 'server.not-applicable' ? [`${event.server}: ${event.message}`] : []));
  const listening = (events: readonly PxedeckEvent[]) =>
    events.flatMap((event) => (event.kind === 'server.listening' && event.server !== 'control' ? [`${event.server} ${event.address}`] : []));

  it('full mode with --pool6: DHCPv6, RAs, TFTP/HTTP/syslog on [fd77:e::1]; DHCPv4 and 4011 "not applicable", not failed', async () => {
    const pxedeck = start(['--mode', 'dhcp', '--pool6', 'fd77:e::100-fd77:e::1ff']);
    try {
      await pxedeck.waitForEvent((event) => event.kind === 'server.listening' && event.server === 'ra', 'router advertisements', 15_000);
      const events = pxedeck.events;
      const reason = 'bench0 has no IPv4 address (IPv6 only)';
      expect(notApplicable(events)).toEqual([`dhcp4: ${reason}`, `pxe-boot-server: ${reason}`, `dhcp-watch: ${reason}`]);
      expect(events.filter((event) => event.kind === 'server.error')).toEqual([]);
      expect(listening(events)).toEqual(
        expect.arrayContaining(['tftp fd77:e::1:69', 'http [fd77:e::1]:80', 'syslog fd77:e::1:5514', 'dhcp6-full [fd77:e::1]:547 on bench0', 'ra icmpv6 bench0']),
      );
      // Nothing listens on IPv4 at all.
      expect(listening(events).filter((entry) => /\d+\.\d+\.\d+\.\d+/.test(entry))).toEqual([]);
      const told = events.find((event) => event.kind === 'notice' && /IPv6 only/.test(event.message));
      expect(told).toMatchObject({ message: expect.stringContaining('DHCPv6 hands out addresses from fd77:e::100-fd77:e::1ff') });
      // A machine on the bench gets its script over IPv6, naming pxedeck by its IPv6 address.
      const script = await lab.curl(benchNs, 'http://[fd77:e::1]/boot.ipxe', () => pxedeck.tail());
      expect(script).toContain('http://[fd77:e::1]/ipxe?');
    } finally {
      expect((await pxedeck.stop()).code).toBe(0);
    }
  });

  it('proxy mode there says what it does: boot options over DHCPv6, no addresses, never a default router', async () => {
    const pxedeck = start(['--mode', 'proxy']);
    try {
      await pxedeck.waitForEvent((event) => event.kind === 'server.listening' && event.server === 'dhcp6-stateless', 'stateless DHCPv6', 15_000);
      const told = await pxedeck.waitForEvent((event) => event.kind === 'notice' && /IPv6 only/.test(event.message), 'the IPv6-only notice', 5000);
      expect(told).toMatchObject({ message: expect.stringMatching(/Proxy mode here: DHCPv6 answers boot requests with boot options only .*never addresses.*never as a default router/) });
      expect(notApplicable(pxedeck.events)).toHaveLength(3);
    } finally {
      expect((await pxedeck.stop()).code).toBe(0);
    }
  });

  it('an interface with neither an IPv4 nor a global/ULA IPv6 address is refused, saying how to give it one', async () => {
    const pxedeck = lab.pxedeck(serverNs, ['--interface', 'bare0', '--mode', 'dhcp', '--data-dir', `${lab.dir}/bare`]);
    expect((await pxedeck.exitWithin(10_000)).code, pxedeck.tail()).toBe(1);
    expect(pxedeck.stderr).toMatch(/Cannot serve on bare0: it has no IPv4 address and no global or ULA IPv6 address \(give it one, e\.g\. ip addr add 192\.168\.77\.1\/24 dev bare0, or for an IPv6-only bench ip addr add fd77::1\/64 dev bare0\)/);
    expect(pxedeck.events.filter((event) => event.kind === 'server.listening')).toEqual([]);
  });
});
