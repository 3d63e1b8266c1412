/**
 * Hostile datagrams at every UDP server of the real CLI (`--headless --mode dhcp`): a fixed count each of
 * random and mutated DHCPv4 (67 and 4011), DHCPv6, TFTP and syslog datagrams (test/support/datagram-fuzz.ts:
 * truncated, oversized and fragmented, spliced, from source port 0), sent by scapy from a machine namespace
 * over a veth from made-up addresses on the segment. pxedeck must still run, must have counted the garbage,
 * must not have reported a server error, and must then serve a real client on every protocol.
 *
 * Reproduce a failure with the seed it prints (PXEDECK_FUZZ_SEED=…); the default seed keeps CI repeatable.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MalformedEvent, PxedeckEvent } from '../../src/servers/events.js';
import { fuzzDatagrams, type FuzzDatagram, type FuzzTarget } from '../support/datagram-fuzz.js';
import { sleep } from '../support/netns.js';
import { expectRealClientsServed, SCAPY_PYTHON, SERVER4, SERVER6, startUdpBench, udpBenchSkipReason, type UdpBench } from './support/udp-bench.js';

const skipReason = udpBenchSkipReason();
const SEED = Number(process.env['PXEDECK_FUZZ_SEED'] ?? 16);
/** Datagrams per target: a fixed count, so the run is bounded (about 10 s of sending). */
const COUNTS: Record<FuzzTarget, number> = { dhcp4: 300, pxe4011: 100, dhcp6: 300, tftp: 300, syslog: 300 };

/** The made-up senders: addresses on the segment that nothing answers for (TFTP's replies to them go nowhere). */
const spoofed4 = (n: number) => `10.77.0.${60 + (n % 8)}`;
const spoofed6 = (n: number) => `fd77::${(0x60 + (n % 8)).toString(16)}`;

/** Reads [source, destination, source port, destination port, hex] lines; fragments what exceeds the MTU. */
const SCAPY = `
import sys, json
from scapy.all import IP, IPv6, IPv6ExtHdrFragment, UDP, Raw, send, fragment, fragment6, conf
conf.verb = 0
packets = []
for line in open(sys.argv[1]):
    src, dst, sport, dport, payload = json.loads(line)
    data = bytes.fromhex(payload)
    if ':' in dst:
        packet = IPv6(src=src, dst=dst) / UDP(sport=sport, dport=dport) / Raw(data)
        if len(packet) > 1400:
            packets += fragment6(IPv6(src=src, dst=dst) / IPv6ExtHdrFragment() / UDP(sport=sport, dport=dport) / Raw(data), 1400)
            continue
        packets.append(packet)
    else:
        packet = IP(src=src, dst=dst) / UDP(sport=sport, dport=dport) / Raw(data)
        packets += fragment(packet, fragsize=1400) if len(packet) > 1400 else [packet]
# Paced, so the servers' socket buffers hold the volley: the point is what each datagram does, not a flood.
send(packets, iface='eth0', inter=0.002)
print('sent', len(packets))
`;

describe.skipIf(skipReason !== undefined)(`random and mutated datagrams at every UDP server${skipReason ? ` — skipped: ${skipReason}` : ''}`, () => {
  let bench: UdpBench;

  beforeAll(async () => {
    bench = await startUdpBench('a');
  }, 60_000);

  afterAll(async () => {
    await bench?.lab.destroy();
  });

  it(`survives them (seed ${SEED}), counts the garbage, reports no server error, and then serves real clients`, { timeout: 120_000 }, async () => {
    const { lab, ns, pxedeck } = bench;
    const volley: FuzzDatagram[] = (Object.keys(COUNTS) as FuzzTarget[]).flatMap((target, index) => fuzzDatagrams(target, COUNTS[target], SEED * 31 + index));
    const lines = volley.map((datagram, n) => {
      const v6 = datagram.target === 'dhcp6';
      return JSON.stringify([v6 ? spoofed6(n) : spoofed4(n), v6 ? SERVER6 : SERVER4, datagram.sourcePort, datagram.port, datagram.payload.toString('hex')]);
    });
    const file = join(lab.dir, 'volley.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const sent = await lab.exec(ns.machine, SCAPY_PYTHON, ['-c', SCAPY, file], { timeoutMs: 90_000 });
    expect(sent.stdout + sent.stderr).toMatch(/^sent \d+/m);
    // Let the last datagrams be read and their events printed.
    await sleep(1500);
    expect(pxedeck.hasExited, `pxedeck exited during the volley (seed ${SEED}):\n${pxedeck.tail()}`).toBe(false);

    const malformed = (source: PxedeckEvent['source']) => pxedeck.events.filter((event): event is MalformedEvent => event.kind === 'packet.malformed' && event.source === source);
    for (const source of ['dhcp4', 'pxe4011', 'dhcp6', 'tftp', 'syslog'] as const) expect(malformed(source).length, `${source} malformed datagrams counted`).toBeGreaterThan(0);
    expect(pxedeck.events.filter((event) => event.kind === 'server.error')).toEqual([]);
    // The shared UDP guard contains a handler's throw as "could not be handled": a fault at the wrong depth all the same.
    expect(pxedeck.events.filter((event) => event.kind === 'packet.malformed' && event.error.startsWith('could not be handled'))).toEqual([]);

    // Real clients, each served after the volley.
    await expectRealClientsServed(bench, 0x5000);
  });
});
