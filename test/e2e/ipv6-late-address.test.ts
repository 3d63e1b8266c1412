/**
 * An IPv6 address that appears after pxedeck started, driving the real CLI: a "laptop" namespace with bench0
 * holding only 10.77.6.1/24 when pxedeck starts, and a bench machine's namespace on the veth's other end
 * (static fd77:6::10). Once fd77:6::1/64 is added to bench0, DHCPv6 and the router advertisements open as
 * they would have at the start, and the Solicit iPXE sent in the lab gets an Advertise whose boot URL names
 * the new address, served over HTTP and TFTP there. ~5 s.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dhcp6BenchMachine } from './support/ipxe-solicit.js';
import { NetnsLab, netnsUnavailableReason, type PxedeckProcess } from '../support/netns.js';

const skipReason = netnsUnavailableReason(['curl']);

const BENCH_MAC = '02:77:06:00:00:01';
const MACHINE_MAC = '02:77:06:00:00:10';

describe.skipIf(skipReason !== undefined)('DHCPv6 and RAs open when the bench port gains its first IPv6 address (namespaces)', () => {
  let lab: NetnsLab;
  const ns = { laptop: '', machine: '' };
  let pxedeck: PxedeckProcess;
  let solicit: () => Promise<string | undefined>;


  const fetch = (url: string) => lab.curl(ns.machine, url, () => pxedeck.tail());

  beforeAll(async () => {
    lab = new NetnsLab('N');
    try {
      ns.laptop = lab.namespace('laptop');
      ns.machine = lab.namespace('machine');
      lab.veth({ ns: ns.laptop, name: 'bench0', address: '10.77.6.1/24', mac: BENCH_MAC }, { ns: ns.machine, name: 'eth0', mac: MACHINE_MAC });
      lab.ip(ns.machine, 'addr', 'add', 'fd77:6::10/64', 'dev', 'eth0', 'nodad');
      ({ solicit } = await dhcp6BenchMachine(lab, ns, { firstTransactionId: 0x7a00, timeoutMs: 1500 }));
      const bootDir = join(lab.dir, 'boot');
      mkdirSync(bootDir, { recursive: true });
      writeFileSync(join(bootDir, 'hello.txt'), 'hello over late IPv6\n');
      pxedeck = lab.pxedeck(ns.laptop, ['--interface', 'bench0', '--data-dir', join(lab.dir, 'data'), '--boot-dir', bootDir, '--http-port', '8080']);
      await pxedeck.waitForEvent((event) => event.kind === 'server.listening' && event.source === 'dhcp4', 'DHCPv4 listening', 15_000);
    } catch (error) {
      await lab.destroy();
      throw error;
    }
  });

  afterAll(async () => {
    await pxedeck?.stop();
    await lab?.destroy();
  });

  it('no DHCPv6 with IPv4 alone; after the first IPv6 address is added, an Advertise names it', async () => {
    // Started with a link-local address only: no DHCPv6, no RAs, no answer.
    expect(await solicit()).toBeUndefined();
    expect(pxedeck.events.filter((event) => event.source === 'dhcp6' || event.source === 'ra')).toEqual([]);

    const added = Date.now();
    lab.ip(ns.laptop, 'addr', 'add', 'fd77:6::1/64', 'dev', 'bench0', 'nodad');
    await pxedeck.waitForEvent(
      (event) => event.kind === 'server.listening' && event.source === 'dhcp6' && event.address?.startsWith('[fd77:6::1]:547') === true,
      'DHCPv6 listening on fd77:6::1',
      5000,
    );
    const startedMs = Date.now() - added;
    const raStarted = await pxedeck.waitForEvent((event) => event.kind === 'ra.started', 'ra.started', 10_000);
    expect(raStarted).toMatchObject({ prefixes: ['fd77:6::/64'] });

    const url = 'http://[fd77:6::1]:8080/boot.ipxe';
    expect(await solicit()).toBe(url);
    expect(await fetch(url)).toMatch(/^#!ipxe/);
    expect(await fetch('tftp://[fd77:6::1]/hello.txt')).toBe('hello over late IPv6\n');
    expect(pxedeck.events.find((event) => event.kind === 'notice' && event.time >= added && event.message.startsWith('bench0 has fd77:6::1'))).toMatchObject({ level: 'info' });
    expect(pxedeck.events.filter((event) => event.kind === 'notice' && /next start/.test(event.message))).toEqual([]);
    expect(pxedeck.events.filter((event) => event.kind === 'server.error')).toEqual([]);
    console.log(`IPv6 late address: DHCPv6 listened ${startedMs} ms after fd77:6::1 was added`);
  });
});
