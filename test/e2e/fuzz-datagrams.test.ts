/**
 * Hostile datagrams at every UDP server of the real CLI (`--headless --mode dhcp`): a fixed count each of
 * random and mutated DHCPv4 (67 and 4011), DHCPv6, TFTP and syslog datagrams (test/support/datagram-fuzz.ts:
 * truncated, oversized and fragmented, spliced, from source port 0), sent by scapy from a machine namespace
 * over a veth from made-up addresses on the segment. pxedeck must still run, must have counted the garbage,
 * must not have reported a server error, and must then serve a real client on every protocol.
 *
 * Reproduce a failure with the seed it prints (PXEDECK_FUZZ_SEED=…); the default seed keeps CI repeatable.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MalformedEvent, PxedeckEvent } from '../../src/servers/events.js';
import { fuzzDatagrams, type FuzzDatagram, type FuzzTarget } from '../support/datagram-fuzz.js';
import { NetnsLab, netnsUnavailableReason, sleep, type PxedeckProcess } from '../support/netns.js';
import { dhcp6BenchMachine } from './support/ipxe-solicit.js';

const SCAPY_PYTHON = '/usr/bin/python3';
const skipReason =
  netnsUnavailableReason(['udhcpc', 'curl', 'logger']) ??
  (existsSync('/usr/lib/python3/dist-packages/scapy') ? undefined : 'needs python3-scapy (Debian package)');

const SEED = Number(process.env['PXEDECK_FUZZ_SEED'] ?? 16);
/** Datagrams per target: a fixed count, so the run is bounded (about 10 s of sending). */
const COUNTS: Record<FuzzTarget, number> = { dhcp4: 300, pxe4011: 100, dhcp6: 300, tftp: 300, syslog: 300 };

const SERVER4 = '10.77.0.1';
const SERVER6 = 'fd77::1';
const MACHINE4 = '10.77.0.50';
const MACHINE6 = 'fd77::50';
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
  let lab: NetnsLab;
  const ns = { laptop: '', machine: '' };
  let pxedeck: PxedeckProcess;

  beforeAll(async () => {
    lab = new NetnsLab('a');
    try {
      ns.laptop = lab.namespace('laptop');
      ns.machine = lab.namespace('machine');
      // A /16, so the pool is far larger than the fuzzed DISCOVERs' made-up MACs can hold with offers.
      lab.veth({ ns: ns.laptop, name: 'bench0', address: `${SERVER4}/16` }, { ns: ns.machine, name: 'eth0', address: `${MACHINE4}/16`, mac: '02:77:00:00:00:50' });
      lab.ip(ns.laptop, '-6', 'addr', 'add', `${SERVER6}/64`, 'dev', 'bench0', 'nodad');
      lab.ip(ns.machine, '-6', 'addr', 'add', `${MACHINE6}/64`, 'dev', 'eth0', 'nodad');
      const bootDir = join(lab.dir, 'boot');
      mkdirSync(bootDir);
      writeFileSync(join(bootDir, 'hello.txt'), 'hello over tftp and http\n');
      await lab.linkLocalReady(ns.laptop, 'bench0');
      pxedeck = lab.pxedeck(ns.laptop, [
        '--interface', 'bench0',
        '--mode', 'dhcp',
        '--pool', '10.77.1.0-10.77.4.255',
        '--pool6', 'fd77::100-fd77::fff',
        '--boot-dir', bootDir,
        '--data-dir', join(lab.dir, 'data'),
        '--probe-ms', '300',
      ]);
      await pxedeck.listening(20_000);
      for (const source of ['tftp', 'syslog', 'dhcp6'] as const) {
        await pxedeck.waitForEvent((event) => event.kind === 'server.listening' && event.source === source, `${source} listening`);
      }
    } catch (error) {
      await lab.destroy();
      throw error;
    }
  }, 60_000);

  afterAll(async () => {
    await lab?.destroy();
  });

  it(`survives them (seed ${SEED}), counts the garbage, reports no server error, and then serves real clients`, { timeout: 120_000 }, async () => {
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
    const lease = await lab.exec(ns.machine, 'udhcpc', ['-f', '-q', '-n', '-i', 'eth0', '-s', '/bin/true', '-t', '5', '-T', '1'], { timeoutMs: 20_000 });
    expect(lease.stdout + lease.stderr).toMatch(/lease of 10\.77\.\d+\.\d+ obtained from 10\.77\.0\.1/);
    expect(await lab.curl(ns.machine, `tftp://${SERVER4}/hello.txt`)).toBe('hello over tftp and http\n');
    expect(await lab.curl(ns.machine, `http://${SERVER4}/files/hello.txt`)).toBe('hello over tftp and http\n');
    const { solicit } = await dhcp6BenchMachine(lab, { laptop: ns.laptop, machine: ns.machine }, { firstTransactionId: 0x5000, timeoutMs: 3000 });
    expect(await solicit()).toMatch(/^http:\/\/\[fd77::1\]/);
    await lab.exec(ns.machine, 'logger', ['--udp', '-n', SERVER4, '-P', '514', '-t', 'after', 'still heard']);
    await pxedeck.waitForEvent((event) => event.kind === 'syslog.line' && event.message.includes('still heard'), 'syslog line after the volley');
    expect(pxedeck.hasExited).toBe(false);
  });
});
