/**
 * DHCPv6 and router advertisements across a replugged bench port, driving the real CLI: a "laptop"
 * namespace with bench0 (10.77.3.1/24, fd77:3::1/64) and a bench machine's namespace on the veth's other
 * end. The machine sends the Solicit iPXE sent in the lab to ff02::1:2 and must get the Advertise with the
 * boot URL; its Linux kernel, a real RA receiver, must get a SLAAC address from our prefix.
 * - Link down and up (the address flushed and re-added, as NetworkManager does): the pinned sockets keep
 *   working, and the RA service asks afresh which router advertises (the cable may be in another switch);
 *   while the address is gone DHCPv6 says it has none to offer (see ipv6-address-watch.test.ts).
 * - The interface deleted and created again (a USB adapter replugged: a new interface index): the DHCPv6
 *   and RA sockets, pinned to the old index, are reopened like DHCPv4's.
 * ~25 s.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PxedeckEvent } from '../../src/servers/events.js';
import { dhcp6BenchMachine } from './support/ipxe-solicit.js';
import { NetnsLab, netnsUnavailableReason, sleep, type PxedeckProcess, type UdpActor } from '../support/netns.js';

const skipReason = netnsUnavailableReason();

const SERVER4 = '10.77.3.1';
const SERVER6 = 'fd77:3::1';
const BENCH_MAC = '02:77:03:00:00:01';
const MACHINE_MAC = '02:77:03:00:00:10';

describe.skipIf(skipReason !== undefined)('DHCPv6 and RAs after the bench port is replugged (namespaces)', () => {
  let lab: NetnsLab;
  const ns = { laptop: '', machine: '' };
  let machine: UdpActor;
  let pxedeck: PxedeckProcess;
  let solicit: () => Promise<string | undefined>;

  function plugIn(): void {
    lab.veth({ ns: ns.laptop, name: 'bench0', address: `${SERVER4}/24`, mac: BENCH_MAC }, { ns: ns.machine, name: 'eth0', mac: MACHINE_MAC });
    // nodad: usable at once, as a static address is after NetworkManager's own wait.
    lab.ip(ns.laptop, 'addr', 'add', `${SERVER6}/64`, 'dev', 'bench0', 'nodad');
  }


  const slaacAddresses = () =>
    (JSON.parse(lab.ip(ns.machine, '-j', '-6', 'addr', 'show', 'dev', 'eth0')) as Array<{ addr_info: Array<{ local: string; scope: string; dynamic?: boolean }> }>)[0]!.addr_info
      .filter((info) => info.scope === 'global' && info.dynamic === true && info.local.startsWith('fd77:3:'))
      .map((info) => info.local);

  async function slaacAddress(timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [address] = slaacAddresses();
      if (address) return address;
      if (Date.now() > deadline) throw new Error(`the machine's kernel took no address from our RAs within ${timeoutMs} ms:\n${pxedeck.tail()}`);
      await sleep(100);
    }
  }


  const count = (test: (event: PxedeckEvent) => boolean) => pxedeck.events.filter(test).length;
  const listening = (source: string) => (event: PxedeckEvent) => event.kind === 'server.listening' && event.source === source;
  const closed = (source: string) => (event: PxedeckEvent) => event.kind === 'server.closed' && event.source === source;
  const noAddress = (event: PxedeckEvent) => event.kind === 'server.error' && event.source === 'dhcp6' && event.message?.startsWith('no IPv6 address to offer') === true;

  beforeAll(async () => {
    lab = new NetnsLab('R');
    try {
      ns.laptop = lab.namespace('laptop');
      ns.machine = lab.namespace('machine');
      plugIn();
      ({ machine, solicit } = await dhcp6BenchMachine(lab, ns, { firstTransactionId: 0x7700, timeoutMs: 3000 }));
      pxedeck = lab.pxedeck(ns.laptop, ['--interface', 'bench0', '--data-dir', join(lab.dir, 'data'), '--http-port', '8080']);
      await pxedeck.waitForEvent(listening('dhcp6'), 'DHCPv6 listening', 15_000);
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

  it('answers before, after a link down/up with the address re-added, and after the interface is re-created', async () => {
    const url = `http://[${SERVER6}]:8080/boot.ipxe`;
    expect(await solicit()).toBe(url);
    await slaacAddress(5000);

    // Link down and up: IPv6 addresses are flushed on down (keep_addr_on_down=0); the address comes back.
    const rasBefore = count((event) => event.kind === 'ra.started');
    lab.ip(ns.laptop, 'link', 'set', 'bench0', 'down');
    await pxedeck.waitForEvent((event) => event.kind === 'notice' && event.message === 'bench0 is down (down)', 'the down notice', 5000);
    lab.ip(ns.laptop, 'link', 'set', 'bench0', 'up');
    lab.ip(ns.laptop, 'addr', 'add', `${SERVER6}/64`, 'dev', 'bench0', 'nodad');
    lab.waitForCarrier(ns.laptop, 'bench0');
    await lab.linkLocalReady(ns.laptop, 'bench0');
    await lab.linkLocalReady(ns.machine, 'eth0');
    const flapped = Date.now();
    expect(await solicit()).toBe(url);
    const answeredAfterFlapMs = Date.now() - flapped;
    // The same DHCPv6 socket: it was never reopened, only without an address to offer while the link was down.
    // The RA service listened afresh and, alone, took over.
    expect(count(closed('dhcp6'))).toBe(0);
    expect(count(noAddress)).toBe(1);
    await pxedeck.waitUntil(() => count((event) => event.kind === 'ra.started') > rasBefore, 'a second ra.started', 10_000);
    expect(count(listening('ra'))).toBe(2);

    // Unplugged and plugged back: a new interface index. The old sockets hear nothing on it.
    lab.ip(ns.laptop, 'link', 'del', 'bench0');
    await pxedeck.waitForEvent((event) => event.kind === 'notice' && event.message === 'bench0 is gone', 'the gone notice', 5000);
    plugIn();
    const replugged = Date.now();
    await pxedeck.waitUntil(() => count(closed('dhcp6')) === 1 && count(listening('ra')) === 3, 'DHCPv6 and RA reopened', 10_000);
    const reopenedMs = Date.now() - replugged;
    await lab.linkLocalReady(ns.machine, 'eth0');
    // The machine's own socket was pinned to the eth0 that went with the veth.
    await machine.must({ op: 'close', id: 'dhcp6' });
    await machine.must({ op: 'open', id: 'dhcp6', port: 546, address: '::', device: 'eth0' });
    expect(await solicit()).toBe(url);
    // The machine's kernel, on a fresh link, takes an address from the reopened RA service's advertisements.
    const slaac = await slaacAddress(10_000);
    const slaacMs = Date.now() - replugged;
    // dhcp-watch (the DHCP reply observer) also reports as dhcp4: count the server itself.
    expect(count((event) => listening('dhcp4')(event) && event.kind === 'server.listening' && event.server === 'dhcp4-proxy')).toBe(2);
    // The observer of other servers' replies on 68 was pinned to the old index too: reopened with them.
    await pxedeck.waitUntil(() => count((event) => event.kind === 'server.listening' && event.server === 'dhcp-watch') === 2, 'dhcp-watch reopened', 5000);
    expect(pxedeck.events.filter((event) => event.kind === 'server.error' && !noAddress(event))).toEqual([]);
    console.log(`replug: DHCPv6 answered ${answeredAfterFlapMs} ms after a link down/up; sockets reopened ${reopenedMs} ms after the interface came back; the machine had ${slaac} ${slaacMs} ms after`);
  });
});
