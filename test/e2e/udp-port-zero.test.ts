/**
 * One datagram from source port 0 to each UDP server of the real CLI (`--headless --mode dhcp`, DHCPv4 on 67
 * and 4011, DHCPv6, router discovery, TFTP, syslog), sent by scapy from a machine namespace over a veth, as an
 * attacker on the boot network would. Node's send() to port 0 throws inside the socket's message handler:
 * before the shared guard (src/servers/net/datagram-guard.ts) one such TFTP request ended the process. After
 * the volley pxedeck must still run, have counted each drop, and serve a real client on every protocol.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MalformedEvent, PxedeckEvent } from '../../src/servers/events.js';
import { sleep } from '../support/netns.js';
import { expectRealClientsServed, MACHINE4, MACHINE6, SCAPY_PYTHON, SERVER4, SERVER6, startUdpBench, udpBenchSkipReason, type UdpBench } from './support/udp-bench.js';

const skipReason = udpBenchSkipReason();
const fixture = (name: string) => readFileSync(join(import.meta.dirname, '../fixtures', name), 'utf8').replace(/\s+/g, '');

/** Each datagram scapy sends from source port 0: [what, destination, port, payload hex]. */
const volley: ReadonlyArray<readonly [string, string, number, string]> = [
  ['DHCPv4 DISCOVER', SERVER4, 67, fixture('dhcp4/full-bios-chain-undionly.bios-ipxe-rom.discover.hex')],
  ['PXE boot server REQUEST', SERVER4, 4011, fixture('dhcp4/full-bios-chain-undionly.bios-ipxe-rom.request.hex')],
  ['malformed TFTP read request', SERVER4, 69, '0001'],
  ['valid TFTP read request', SERVER4, 69, Buffer.from('\x00\x01hello.txt\x00octet\x00', 'latin1').toString('hex')],
  ['syslog line', SERVER4, 514, Buffer.from('<13>zero: from port 0').toString('hex')],
  ['DHCPv6 Solicit', SERVER6, 547, fixture('dhcp6/v6-bios-ipxe-rom.bios-ipxe-rom.solicit.hex')],
];

const SCAPY = `
import sys, json
from scapy.all import IP, IPv6, UDP, ICMPv6ND_RS, Raw, send, conf
conf.verb = 0
for what, dst, port, payload in json.loads(sys.argv[1]):
    layer = IPv6(src=${JSON.stringify(MACHINE6)}, dst=dst) if ':' in dst else IP(src=${JSON.stringify(MACHINE4)}, dst=dst)
    send(layer / UDP(sport=0, dport=port) / Raw(bytes.fromhex(payload)), iface='eth0')
# Router discovery is ICMPv6, without ports: a solicitation from an address the segment does not use.
send(IPv6(src='fe80::dead', dst='ff02::2', hlim=255) / ICMPv6ND_RS(), iface='eth0')
print('sent')
`;

describe.skipIf(skipReason !== undefined)(`one datagram from source port 0 to every UDP server${skipReason ? ` — skipped: ${skipReason}` : ''}`, () => {
  let bench: UdpBench;

  beforeAll(async () => {
    bench = await startUdpBench('g');
  }, 60_000);

  afterAll(async () => {
    await bench?.lab.destroy();
  });

  it('survives, counts each datagram as dropped, and still serves DHCPv4, DHCPv6, TFTP, HTTP and syslog', { timeout: 90_000 }, async () => {
    const { lab, ns, pxedeck } = bench;
    const sent = await lab.exec(ns.machine, SCAPY_PYTHON, ['-c', SCAPY, JSON.stringify(volley)], { timeoutMs: 60_000 });
    expect(sent.stdout + sent.stderr).toContain('sent');
    const dropped = (source: PxedeckEvent['source']) =>
      pxedeck.events.filter((event): event is MalformedEvent => event.kind === 'packet.malformed' && event.source === source && event.error.includes('source port 0'));
    await pxedeck.waitUntil(
      () => pxedeck.hasExited || (['dhcp4', 'pxe4011', 'syslog', 'dhcp6'] as const).every((source) => dropped(source).length === 1) && dropped('tftp').length === 2,
      'every port-0 datagram reported as dropped',
      10_000,
    ).catch(() => undefined);
    await sleep(500);
    expect(pxedeck.hasExited, pxedeck.tail()).toBe(false);
    expect(pxedeck.events.filter((event) => event.kind === 'packet.malformed').map((event) => `${event.source} ${(event as MalformedEvent).error}`)).toEqual(
      expect.arrayContaining([
        'dhcp4 source port 0 cannot be answered: dropped',
        'pxe4011 source port 0 cannot be answered: dropped',
        'tftp source port 0 cannot be answered: dropped',
        'syslog source port 0 cannot be answered: dropped',
        'dhcp6 source port 0 cannot be answered: dropped',
      ]),
    );
    expect(dropped('tftp')).toHaveLength(2);

    // Real clients, each served after the volley.
    await expectRealClientsServed(bench, 0x3000);
  });
});
