/**
 * The technician's laptop of NETWORKING.md, driving the real CLI: a "laptop" namespace with a bench port
 * (bench0, 10.77.1.1/24) and a Wi-Fi port (wifi0, 10.77.2.2/24, holding the default route), each veth's
 * peer in its own namespace. pxedeck serves bench0 only, in full and in proxy mode. Scripted PXE clients
 * send real DHCP packets from port 68 on both sides; tcpdump on the Wi-Fi peer records the whole test to
 * prove no DHCP packet ever leaves the laptop by Wi-Fi.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Option } from '../../src/protocol/dhcp4/constants.js';
import { messageTypeOf, readAddressOption } from '../../src/protocol/dhcp4/options.js';
import { decode, type DhcpPacket } from '../../src/protocol/dhcp4/packet.js';
import { encode } from '../../src/protocol/dhcp4/encode.js';
import type { DhcpPacketEvent } from '../../src/servers/events.js';
import { readPcapUdp } from './lab/pcap.js';
import { buildRequest, type RequestSpec } from '../support/dhcp-client.js';
import { NetnsLab, netnsUnavailableReason, sleep, type NsProcess, type PxedeckProcess, type UdpActor } from '../support/netns.js';

const skipReason = netnsUnavailableReason(['tcpdump']);

const BENCH_SERVER = '10.77.1.1';
const POOL = '10.77.1.100-10.77.1.199';
const BENCH_MAC = '02:77:01:00:00:01';
const WIFI_MAC = '02:77:02:00:00:01';
/** How long "no answer" is watched for after a DISCOVER that provably reached the laptop. */
const SILENCE_MS = 1000;

describe.skipIf(skipReason !== undefined)('a laptop with a bench port and Wi-Fi: pxedeck answers on the bench only', () => {
  let lab: NetnsLab;
  const ns = { laptop: '', bench: '', wifi: '' };
  let capture: NsProcess;
  let pcapFile: string;
  let laptopWifiMac: string;
  /** The PXE client on the bench and a machine on the office Wi-Fi network, both on port 68. */
  let benchClient: UdpActor;
  let wifiClient: UdpActor;
  /** In the laptop: a socket pinned to wifi0:67, proof that Wi-Fi DISCOVERs did reach the laptop. */
  let laptopWifiEar: UdpActor;
  let pxedeck: PxedeckProcess | undefined;

  beforeAll(async () => {
    lab = new NetnsLab('L');
    try {
      ns.laptop = lab.namespace('laptop');
      ns.bench = lab.namespace('bench');
      ns.wifi = lab.namespace('wifi');
      // The bench machine has no address: it is a computer asking to be network-booted.
      lab.veth({ ns: ns.laptop, name: 'bench0', address: `${BENCH_SERVER}/24` }, { ns: ns.bench, name: 'eth0', mac: BENCH_MAC });
      lab.veth({ ns: ns.laptop, name: 'wifi0', address: '10.77.2.2/24' }, { ns: ns.wifi, name: 'eth0', address: '10.77.2.1/24', mac: WIFI_MAC });
      lab.ip(ns.laptop, 'route', 'add', 'default', 'via', '10.77.2.1', 'dev', 'wifi0');
      // Without any route a socket cannot send to 255.255.255.255 (ENETUNREACH).
      lab.ip(ns.bench, 'route', 'add', 'default', 'dev', 'eth0');
      lab.ip(ns.wifi, 'route', 'add', 'default', 'dev', 'eth0');
      laptopWifiMac = lab.ip(ns.laptop, '-o', 'link', 'show', 'dev', 'wifi0').match(/link\/ether ([0-9a-f:]{17})/)![1]!;

      pcapFile = join(lab.dir, 'wifi.pcap');
      capture = await lab.tcpdump(ns.wifi, 'eth0', pcapFile, 'udp');
      [benchClient, wifiClient, laptopWifiEar] = await Promise.all([
        lab.udpActor(ns.bench, 'bench client'),
        lab.udpActor(ns.wifi, 'wifi client'),
        lab.udpActor(ns.laptop, 'laptop wifi0:67'),
      ]);
      await benchClient.must({ op: 'open', id: 'dhcp', port: 68 });
      await wifiClient.must({ op: 'open', id: 'dhcp', port: 68 });
      await laptopWifiEar.must({ op: 'open', id: 'ear', port: 67, device: 'wifi0' });
    } catch (error) {
      await lab.destroy();
      throw error;
    }
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  async function broadcast(client: UdpActor, spec: RequestSpec): Promise<DhcpPacket> {
    const packet = buildRequest(spec);
    await client.must({ op: 'send', id: 'dhcp', address: '255.255.255.255', port: 67, hex: encode(packet).toString('hex') });
    return packet;
  }

  async function replyTo(client: UdpActor, xid: number, type: string, timeoutMs = 3000): Promise<{ packet: DhcpPacket; from: string } | undefined> {
    const datagram = await client.datagram((d) => {
      try {
        const packet = decode(d.bytes);
        return packet.xid === xid && messageTypeOf(packet) === type;
      } catch {
        return false;
      }
    }, timeoutMs);
    return datagram && { packet: decode(datagram.bytes), from: `${datagram.from}:${datagram.fromPort}` };
  }

  /** A DISCOVER from the Wi-Fi side: it reaches the laptop (the ear hears it) and nobody answers. */
  async function wifiDiscoverIsIgnored(server: PxedeckProcess): Promise<void> {
    const heardBefore = laptopWifiEar.datagrams.length;
    const discover = await broadcast(wifiClient, { type: 'DISCOVER', mac: WIFI_MAC, profile: 'bios-pxe' });
    const heard = await laptopWifiEar.datagram((d) => d.bytes.length > 8 && decode(d.bytes).xid === discover.xid, 3000);
    expect(heard, 'the Wi-Fi DISCOVER reached the laptop').toBeDefined();
    expect(laptopWifiEar.datagrams.length).toBe(heardBefore + 1);
    await sleep(SILENCE_MS);
    expect(wifiClient.datagrams.filter((d) => d.bytes.length > 8 && decode(d.bytes).xid === discover.xid)).toEqual([]);
    expect(server.events.filter((event) => event.mac === WIFI_MAC)).toEqual([]);
  }

  function startPxedeck(args: readonly string[]): PxedeckProcess {
    return lab.pxedeck(ns.laptop, ['--interface', 'bench0', '--data-dir', join(lab.dir, 'data'), ...args]);
  }

  it('full mode: the bench PXE client gets its OFFER and ACK on the bench; a Wi-Fi DISCOVER gets nothing', async () => {
    // The full default probe: its DISCOVER must leave by bench0 only as well.
    pxedeck = startPxedeck(['--mode', 'dhcp', '--pool', POOL]);
    await pxedeck.listening();
    expect(pxedeck.events).toContainEqual(expect.objectContaining({ kind: 'server.listening', server: 'dhcp4-full', address: `${BENCH_SERVER}:67` }));

    const discover = await broadcast(benchClient, { type: 'DISCOVER', mac: BENCH_MAC, profile: 'bios-pxe' });
    const offer = await replyTo(benchClient, discover.xid, 'OFFER');
    expect(offer, pxedeck.tail()).toBeDefined();
    expect(offer!.from).toBe(`${BENCH_SERVER}:67`);
    expect(offer!.packet.yiaddr).toBe('10.77.1.100');
    expect(readAddressOption(offer!.packet, Option.SERVER_ID)).toBe(BENCH_SERVER);
    expect(offer!.packet.siaddr).toBe(BENCH_SERVER);
    expect(offer!.packet.options.get(Option.BOOTFILE_NAME)?.toString('latin1')).toBe('undionly.kpxe');

    const request = await broadcast(benchClient, {
      type: 'REQUEST',
      mac: BENCH_MAC,
      profile: 'bios-pxe',
      xid: discover.xid,
      requestedIp: offer!.packet.yiaddr,
      serverId: BENCH_SERVER,
    });
    const ack = await replyTo(benchClient, request.xid, 'ACK');
    expect(ack?.packet.yiaddr, pxedeck.tail()).toBe('10.77.1.100');
    await pxedeck.waitForEvent((event) => event.kind === 'lease.granted' && event.mac === BENCH_MAC, 'lease.granted');
    const sent = pxedeck.events.filter((event): event is DhcpPacketEvent => event.kind === 'dhcp.sent');
    expect(sent.map((event) => [event.messageType, event.interface, event.peer])).toEqual([
      ['OFFER', 'bench0', '255.255.255.255:68'],
      ['ACK', 'bench0', '255.255.255.255:68'],
    ]);

    await wifiDiscoverIsIgnored(pxedeck);
    expect((await pxedeck.stop()).code).toBe(0);
  });

  it('proxy mode: the bench PXE client gets a proxy OFFER (no address, undionly.kpxe); Wi-Fi gets nothing', async () => {
    pxedeck = startPxedeck(['--mode', 'proxy']);
    await pxedeck.listening();

    const discover = await broadcast(benchClient, { type: 'DISCOVER', mac: BENCH_MAC, profile: 'bios-pxe' });
    const offer = await replyTo(benchClient, discover.xid, 'OFFER');
    expect(offer, pxedeck.tail()).toBeDefined();
    expect(offer!.from).toBe(`${BENCH_SERVER}:67`);
    expect(offer!.packet.yiaddr).toBe('0.0.0.0');
    expect(offer!.packet.options.get(Option.VENDOR_CLASS)?.toString('latin1')).toBe('PXEClient');
    expect(offer!.packet.options.get(Option.BOOTFILE_NAME)?.toString('latin1') ?? offer!.packet.file).toBe('undionly.kpxe');
    expect(readAddressOption(offer!.packet, Option.SERVER_ID)).toBe(BENCH_SERVER);
    // Headless events are printed in batches (up to 20 ms after the reply went out).
    const sent = await pxedeck.waitForEvent((event) => event.kind === 'dhcp.sent' && event.messageType === 'OFFER' && event.mac === BENCH_MAC, 'dhcp.sent OFFER');
    expect(sent).toMatchObject({ bootFile: 'undionly.kpxe', interface: 'bench0' });

    await wifiDiscoverIsIgnored(pxedeck);
    expect((await pxedeck.stop()).code).toBe(0);
  });

  it('no DHCP packet left the laptop by Wi-Fi during the whole test (and the capture would have seen one)', async () => {
    // Control: an unpinned broadcast from the laptop goes out by the default route, Wi-Fi. The capture and
    // the Wi-Fi listener both see it, so their silence about DHCP means something.
    const control = await lab.udpActor(ns.laptop, 'laptop unpinned');
    await control.must({ op: 'open', id: 'plain', port: 0 });
    await control.must({ op: 'send', id: 'plain', address: '255.255.255.255', port: 68, hex: Buffer.from('leak control').toString('hex') });
    const seen = await wifiClient.datagram((d) => d.bytes.toString() === 'leak control', 3000);
    expect(seen).toBeDefined();
    await control.close();
    await sleep(200);
    await capture.stop('SIGINT');

    const fromLaptop = readPcapUdp(pcapFile).filter((datagram) => datagram.srcMac === laptopWifiMac);
    expect(fromLaptop.map((datagram) => datagram.payload.toString())).toEqual(['leak control']);
    // The Wi-Fi listener on 68 heard nothing but the control either.
    expect(wifiClient.datagrams.map((d) => d.bytes.toString())).toEqual(['leak control']);
    // The capture did record the Wi-Fi side's own DISCOVERs (one per mode).
    const discovers = readPcapUdp(pcapFile).filter((datagram) => datagram.srcMac === WIFI_MAC && datagram.dstPort === 67);
    expect(discovers).toHaveLength(2);
  });
});
