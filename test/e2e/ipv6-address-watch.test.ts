/**
 * The IPv6 address boot URLs name, followed while pxedeck runs, driving the real CLI: a "laptop" namespace
 * with bench0 (10.77.4.1/24, fd77:4::1/64) and a bench machine's namespace on the veth's other end (static
 * fd77:4::10 and fd77:5::10). The machine sends the Solicit iPXE sent in the lab to ff02::1:2 and fetches
 * over HTTP and TFTP what the Advertise's boot URL names.
 * - The address deleted: DHCPv6 shows it has no address to offer (its state, and each message it leaves
 *   unanswered) instead of handing out URLs nobody answers at.
 * - Added back: the same URL again, served by the same HTTP and TFTP sockets.
 * - Replaced by an address in another prefix: URLs, HTTP, TFTP and the RA's prefix follow it.
 * ~15 s.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PxedeckEvent } from '../../src/servers/events.js';
import { dhcp6BenchMachine } from './support/ipxe-solicit.js';
import { NetnsLab, netnsUnavailableReason, type PxedeckProcess } from '../support/netns.js';

const skipReason = netnsUnavailableReason(['curl']);

const BENCH_MAC = '02:77:04:00:00:01';
const MACHINE_MAC = '02:77:04:00:00:10';
const NO_ADDRESS = 'no IPv6 address to offer in boot URLs: fd77:4::1 is no longer on bench0';

describe.skipIf(skipReason !== undefined)('the IPv6 address in boot URLs follows the bench port (namespaces)', () => {
  let lab: NetnsLab;
  const ns = { laptop: '', machine: '' };
  let pxedeck: PxedeckProcess;
  let solicit: () => Promise<string | undefined>;

  const fetch = (url: string) => lab.curl(ns.machine, url, () => pxedeck.tail());

  const dhcp6State = (test: (event: PxedeckEvent) => boolean) => (event: PxedeckEvent) => event.source === 'dhcp6' && (event.kind === 'server.listening' || event.kind === 'server.error') && test(event);

  beforeAll(async () => {
    lab = new NetnsLab('A');
    try {
      ns.laptop = lab.namespace('laptop');
      ns.machine = lab.namespace('machine');
      lab.veth({ ns: ns.laptop, name: 'bench0', address: '10.77.4.1/24', mac: BENCH_MAC }, { ns: ns.machine, name: 'eth0', mac: MACHINE_MAC });
      // nodad: usable at once, as a static address is after NetworkManager's own wait.
      lab.ip(ns.laptop, 'addr', 'add', 'fd77:4::1/64', 'dev', 'bench0', 'nodad');
      for (const address of ['fd77:4::10/64', 'fd77:5::10/64']) lab.ip(ns.machine, 'addr', 'add', address, 'dev', 'eth0', 'nodad');
      ({ solicit } = await dhcp6BenchMachine(lab, ns, { firstTransactionId: 0x7800, timeoutMs: 1500 }));
      const bootDir = join(lab.dir, 'boot');
      mkdirSync(bootDir, { recursive: true });
      writeFileSync(join(bootDir, 'hello.txt'), 'hello over IPv6\n');
      pxedeck = lab.pxedeck(ns.laptop, ['--interface', 'bench0', '--data-dir', join(lab.dir, 'data'), '--boot-dir', bootDir, '--http-port', '8080']);
      await pxedeck.waitForEvent(dhcp6State(() => true), 'DHCPv6 listening', 15_000);
      await pxedeck.waitForEvent((event) => event.kind === 'ra.started', 'ra.started', 10_000);
    } catch (error) {
      await lab.destroy();
      throw error;
    }
  });

  afterAll(async () => {
    await pxedeck?.stop();
    await lab?.destroy();
  });

  it('no URL while the address is gone; the same URL when it is back; the new address when it is replaced', async () => {
    const url1 = 'http://[fd77:4::1]:8080/boot.ipxe';
    expect(await solicit()).toBe(url1);
    expect(await fetch(url1)).toMatch(/^#!ipxe/);

    // Deleted: within a poll of the watcher DHCPv6 says it has no address (the header's DHCP6 chip turns red).
    const deleted = Date.now();
    lab.ip(ns.laptop, 'addr', 'del', 'fd77:4::1/64', 'dev', 'bench0');
    await pxedeck.waitForEvent(dhcp6State((event) => event.kind === 'server.error' && event.message === NO_ADDRESS), 'the no-address state', 5000);
    const noticedMs = Date.now() - deleted;
    expect(pxedeck.events.find((event) => event.kind === 'notice' && event.level === 'warning' && event.message.startsWith('bench0 lost fd77:4::1'))).toBeDefined();
    expect(await solicit()).toBeUndefined();
    expect(pxedeck.events.filter((event) => event.kind === 'dhcp6.ignored').at(-1)).toMatchObject({ reason: NO_ADDRESS });

    // Added back: listening on it again, and the HTTP and TFTP sockets bound to it serve again.
    const readded = Date.now();
    lab.ip(ns.laptop, 'addr', 'add', 'fd77:4::1/64', 'dev', 'bench0', 'nodad');
    await pxedeck.waitForEvent(dhcp6State((event) => event.kind === 'server.listening' && event.time >= readded && event.address?.startsWith('[fd77:4::1]:547') === true), 'DHCPv6 back on fd77:4::1', 5000);
    expect(await solicit()).toBe(url1);
    expect(await fetch(url1)).toMatch(/^#!ipxe/);
    expect(await fetch('tftp://[fd77:4::1]/hello.txt')).toBe('hello over IPv6\n');

    // Replaced by an address in another prefix: everything follows it.
    const replaced = Date.now();
    lab.ip(ns.laptop, 'addr', 'add', 'fd77:5::1/64', 'dev', 'bench0', 'nodad');
    lab.ip(ns.laptop, 'addr', 'del', 'fd77:4::1/64', 'dev', 'bench0');
    await pxedeck.waitForEvent(dhcp6State((event) => event.kind === 'server.listening' && event.time >= replaced && event.address?.startsWith('[fd77:5::1]:547') === true), 'DHCPv6 on fd77:5::1', 5000);
    const url2 = 'http://[fd77:5::1]:8080/boot.ipxe';
    expect(await solicit()).toBe(url2);
    expect(await fetch(url2)).toMatch(/^#!ipxe/);
    expect(await fetch('tftp://[fd77:5::1]/hello.txt')).toBe('hello over IPv6\n');
    expect(pxedeck.events.find((event) => event.kind === 'ra.started' && event.time >= replaced)).toMatchObject({ prefixes: ['fd77:5::/64'], reason: 'the prefixes on bench0 changed' });
    expect(pxedeck.events.find((event) => event.kind === 'notice' && event.time >= replaced && event.level === 'warning')).toMatchObject({ message: 'bench0 lost fd77:4::1: IPv6 boot URLs name fd77:5::1 now' });
    // Only the states above went wrong; no socket failed, and the link itself never changed.
    expect(pxedeck.events.flatMap((event) => (event.kind === 'server.error' ? [event.message] : []))).toEqual([NO_ADDRESS]);
    expect(pxedeck.events.filter((event) => event.kind === 'notice' && /^bench0 is /.test(event.message))).toEqual([]);
    console.log(`IPv6 address watch: the deletion was noticed after ${noticedMs} ms; URLs followed fd77:4::1 → fd77:5::1`);
  });
});
