import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClientHistory, ClientPolicy } from '../../../src/boot/dhcp-decision.js';
import { Option } from '../../../src/protocol/dhcp4/constants.js';
import { decodeEncapsulated, decodeIpxeOptions, messageTypeOf, readAddressOption } from '../../../src/protocol/dhcp4/options.js';
import { parseMac, type Mac } from '../../../src/protocol/mac.js';
import type { PxedeckEvent } from '../../../src/servers/events.js';
import { LeasePool, type Lease, type LeaseStore } from '../../../src/servers/dhcp4/lease-pool.js';
import type { NewClientLimit } from '../../../src/servers/dhcp4/new-client-limit.js';
import { createDhcp4Server, type Dhcp4Server, type DhcpMode } from '../../../src/servers/dhcp4/server.js';
import type { DhcpPacket } from '../../../src/protocol/dhcp4/packet.js';
import { buildRequest, openTestClient, type TestDhcpClient } from '../../support/dhcp-client.js';

const SERVER = '127.0.0.1';
const BINARIES = new Set(['undionly.kpxe', 'ipxe.efi', 'snponly.efi']);

function openLoopback(port: number): Promise<Socket> {
  const socket = createSocket('udp4');
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port === 67 || port === 4011 ? 0 : port, SERVER, () => resolve(socket));
  });
}

class MemoryLeaseStore implements LeaseStore {
  readonly saved = new Map<Mac, Lease>();
  load(): Lease[] {
    return [...this.saved.values()];
  }
  put(lease: Lease, onDurable?: () => void): void {
    this.saved.set(lease.mac, lease);
    onDurable?.();
  }
  remove(mac: Mac): void {
    this.saved.delete(mac);
  }
}

interface Harness {
  server: Dhcp4Server;
  client: TestDhcpClient;
  events: PxedeckEvent[];
  policies: Map<string, ClientPolicy>;
  histories: Map<string, ClientHistory>;
}

let open: Harness[] = [];
afterEach(async () => {
  for (const harness of open) {
    harness.client.close();
    await harness.server.close();
  }
  open = [];
});

async function start(mode: DhcpMode, extra: { pool?: LeasePool; newClientLimit?: NewClientLimit | null; relayPort?: number } = {}): Promise<Harness> {
  const client = await openTestClient();
  const events: PxedeckEvent[] = [];
  const policies = new Map<string, ClientPolicy>();
  const histories = new Map<string, ClientHistory>();
  const server = await createDhcp4Server({
    mode,
    serverAddress: SERVER,
    openSocket: openLoopback,
    ports: { dhcp: 67, bootServer: 4011, client: client.port, ...(extra.relayPort !== undefined && { relay: extra.relayPort }) },
    broadcastAddress: SERVER,
    targets: {
      scriptUrl: `http://${SERVER}:8080/boot.ipxe`,
      httpUrl: (file) => `http://${SERVER}:8080/${file}`,
      binaries: () => BINARIES,
    },
    clientState: (mac: Mac) => ({ policy: policies.get(mac) ?? {}, history: histories.get(mac) ?? {} }),
    ...(extra.pool && { pool: extra.pool, lease: { subnetMask: '255.0.0.0', broadcastAddress: '127.255.255.255', leaseSeconds: 600 } }),
    ...(extra.newClientLimit !== undefined && { newClientLimit: extra.newClientLimit }),
    emit: (event) => events.push(event),
  });
  const harness = { server, client, events, policies, histories };
  open.push(harness);
  return harness;
}

function pool(store = new MemoryLeaseStore(), size = 10): LeasePool {
  return new LeasePool({
    first: '127.0.0.100',
    last: `127.0.0.${99 + size}`,
    subnet: '127.0.0.0/8',
    excluded: [SERVER],
    leaseSeconds: 600,
    store,
  });
}

/** DISCOVER, OFFER, REQUEST (SELECTING), ACK as a client does; null when there was no offer. */
async function dora(harness: Harness, mac: string, profile: 'bios-pxe' | 'plain' = 'bios-pxe') {
  const discover = buildRequest({ type: 'DISCOVER', mac, profile });
  await harness.client.send(discover, harness.server.ports.dhcp);
  const offer = await harness.client.reply(discover.xid);
  if (!offer) return null;
  const request = buildRequest({ type: 'REQUEST', mac, profile, xid: discover.xid, serverId: SERVER, requestedIp: offer.packet.yiaddr });
  await harness.client.send(request, harness.server.ports.dhcp);
  const ack = await harness.client.reply(request.xid);
  return { offer: offer.packet, ack: ack?.packet };
}

describe('proxyDHCP', () => {
  it('offers undionly.kpxe to BIOS PXE firmware without assigning an address', async () => {
    const { server, client } = await start('proxy');
    const request = buildRequest({ type: 'DISCOVER', mac: '52:54:00:00:00:01', profile: 'bios-pxe' });
    await client.send(request, server.ports.dhcp);
    const reply = await client.reply(request.xid);
    expect(reply).not.toBeNull();
    const { packet, bytes } = reply!;
    expect(messageTypeOf(packet)).toBe('OFFER');
    expect(bytes.length).toBeGreaterThanOrEqual(300);
    expect(bytes[240]).toBe(Option.MESSAGE_TYPE);
    expect(packet.yiaddr).toBe('0.0.0.0');
    expect(packet.siaddr).toBe(SERVER);
    expect(packet.file).toBe('undionly.kpxe');
    expect(packet.options.get(Option.BOOTFILE_NAME)?.toString()).toBe('undionly.kpxe');
    expect(packet.options.get(Option.TFTP_SERVER_NAME)?.toString()).toBe(SERVER);
    expect(packet.options.get(Option.VENDOR_CLASS)?.toString()).toBe('PXEClient');
    expect(readAddressOption(packet, Option.SERVER_ID)).toBe(SERVER);
    expect(decodeEncapsulated(packet.options.get(Option.VENDOR_SPECIFIC)!).get(6)).toEqual(Buffer.from([8]));
    expect(packet.options.get(Option.CLIENT_UUID)).toEqual(request.options.get(Option.CLIENT_UUID));
    expect(packet.options.has(Option.LEASE_TIME)).toBe(false);
  });

  it('ignores clients that are not network booting, with the reason as an event', async () => {
    const { server, client, events } = await start('proxy');
    const request = buildRequest({ type: 'DISCOVER', mac: '52:54:00:00:00:02', profile: 'plain' });
    await client.send(request, server.ports.dhcp);
    expect(await client.reply(request.xid, 300)).toBeNull();
    const ignored = events.find((event) => event.kind === 'dhcp.ignored');
    expect(ignored).toMatchObject({ mac: '52:54:00:00:00:02', reason: expect.stringMatching(/PXEClient/) });
  });

  it('steers UEFI PXE to the boot server on 4011, which answers with ipxe.efi by unicast', async () => {
    const { server, client } = await start('proxy');
    const discover = buildRequest({ type: 'DISCOVER', mac: '52:54:00:00:00:03', profile: 'uefi-pxe' });
    await client.send(discover, server.ports.dhcp);
    const offer = (await client.reply(discover.xid))!.packet;
    expect(offer.file).toBe('');
    expect(offer.options.has(Option.BOOTFILE_NAME)).toBe(false);
    expect(offer.options.has(Option.VENDOR_SPECIFIC)).toBe(false);
    expect(offer.options.get(Option.VENDOR_CLASS)?.toString()).toBe('PXEClient');
    expect(offer.siaddr).toBe(SERVER);

    const request = buildRequest({ type: 'REQUEST', mac: '52:54:00:00:00:03', profile: 'uefi-pxe', ciaddr: '127.0.0.1', flags: 0 });
    await client.send(request, server.ports.bootServer!);
    const ack = await client.reply(request.xid);
    expect(ack?.from).toBe(`${SERVER}:${server.ports.bootServer}`);
    expect(messageTypeOf(ack!.packet)).toBe('ACK');
    expect(ack!.packet.file).toBe('ipxe.efi');
  });

  it('puts the boot file in the offer for a UEFI machine whose policy says so', async () => {
    const { server, client, policies } = await start('proxy');
    policies.set('52:54:00:00:00:04', { proxyDelivery: 'offer', efiBinary: 'snponly.efi' });
    const discover = buildRequest({ type: 'DISCOVER', mac: '52:54:00:00:00:04', profile: 'uefi-pxe' });
    await client.send(discover, server.ports.dhcp);
    const offer = (await client.reply(discover.xid))!.packet;
    expect(offer.file).toBe('snponly.efi');
    expect(offer.options.has(Option.VENDOR_SPECIFIC)).toBe(false);
  });

  it.each(['ipxe-bios', 'ipxe-rfc3004', 'ipxe-175-only'] as const)('hands %s the script URL with 175.176 no-pxedhcp', async (profile) => {
    const { server, client } = await start('proxy');
    const discover = buildRequest({ type: 'DISCOVER', mac: '52:54:00:00:00:05', profile });
    await client.send(discover, server.ports.dhcp);
    const offer = (await client.reply(discover.xid))!.packet;
    expect(offer.options.get(Option.BOOTFILE_NAME)?.toString()).toBe(`http://${SERVER}:8080/boot.ipxe`);
    expect(decodeIpxeOptions(offer.options.get(Option.IPXE)!).noPxeDhcp).toBe(true);
  });

  it('does not answer a REQUEST meant for the site DHCP server', async () => {
    const { server, client, events } = await start('proxy');
    const request = buildRequest({ type: 'REQUEST', mac: '52:54:00:00:00:06', profile: 'bios-pxe', serverId: '127.0.0.9', requestedIp: '127.0.0.50' });
    await client.send(request, server.ports.dhcp);
    expect(await client.reply(request.xid, 300)).toBeNull();
    expect(events.find((event) => event.kind === 'dhcp.foreign-server')).toMatchObject({ server: '127.0.0.9' });
  });

  it('breaks the chainboot loop: an iPXE that just downloaded undionly.kpxe gets the script, not the binary again', async () => {
    const { server, client, policies, histories } = await start('proxy');
    const mac = '52:54:00:00:00:07';
    policies.set(mac, { replaceIpxe: true });
    const first = buildRequest({ type: 'DISCOVER', mac, profile: 'ipxe-bios' });
    await client.send(first, server.ports.dhcp);
    expect((await client.reply(first.xid))!.packet.file).toBe('undionly.kpxe');
    histories.set(mac, { nbpDownloadedAt: Date.now(), nbpFile: 'undionly.kpxe' });
    const second = buildRequest({ type: 'DISCOVER', mac, profile: 'ipxe-bios' });
    await client.send(second, server.ports.dhcp);
    expect((await client.reply(second.xid))!.packet.options.get(Option.BOOTFILE_NAME)?.toString()).toMatch(/boot\.ipxe$/);
  });

  it('ignores an architecture whose binary is missing, naming what to install', async () => {
    const { server, client, events } = await start('proxy');
    const request = buildRequest({ type: 'DISCOVER', mac: '52:54:00:00:00:08', profile: 'arm64-pxe' });
    await client.send(request, server.ports.dhcp);
    expect(await client.reply(request.xid, 300)).toBeNull();
    expect(events.find((event) => event.kind === 'dhcp.ignored')).toMatchObject({ reason: expect.stringMatching(/ipxe-arm64\.efi/) });
  });

  it('hands UEFI HTTP Boot clients an http URL with HTTPClient', async () => {
    const { server, client } = await start('proxy');
    const request = buildRequest({ type: 'DISCOVER', mac: '52:54:00:00:00:09', profile: 'http-boot' });
    await client.send(request, server.ports.dhcp);
    const offer = (await client.reply(request.xid))!.packet;
    expect(offer.options.get(Option.VENDOR_CLASS)?.toString()).toBe('HTTPClient');
    expect(offer.options.get(Option.BOOTFILE_NAME)?.toString()).toBe(`http://${SERVER}:8080/ipxe.efi`);
  });

  it('drops and counts malformed packets and keeps answering', async () => {
    const { server, client, events } = await start('proxy');
    await client.send(Buffer.from('not a dhcp packet at all'), server.ports.dhcp);
    await client.send(Buffer.alloc(300, 0xff), server.ports.dhcp);
    const request = buildRequest({ type: 'DISCOVER', mac: '52:54:00:00:00:0a', profile: 'bios-pxe' });
    await client.send(request, server.ports.dhcp);
    expect(await client.reply(request.xid)).not.toBeNull();
    const malformed = events.filter((event) => event.kind === 'packet.malformed');
    expect(malformed).toHaveLength(2);
    expect(malformed[0]).toMatchObject({ error: expect.stringMatching(/offset 24/), length: 24 });
    expect(server.stats.malformed).toBe(2);
  });
});

describe('full DHCP', () => {
  it('answers through a relay agent: OFFER and ACK go to giaddr at the relay port, not to the client', async () => {
    const relay = await openTestClient();
    try {
      const harness = await start('full', { pool: pool(), relayPort: relay.port });
      const discover = { ...buildRequest({ type: 'DISCOVER', mac: '52:54:00:00:01:09', flags: 0 }), hops: 1, giaddr: SERVER };
      await relay.send(discover, harness.server.ports.dhcp);
      const offer = await relay.reply(discover.xid);
      expect(offer?.packet.giaddr).toBe(SERVER);
      expect(messageTypeOf(offer!.packet)).toBe('OFFER');
      const request = { ...buildRequest({ type: 'REQUEST', mac: '52:54:00:00:01:09', xid: discover.xid, flags: 0, serverId: SERVER, requestedIp: offer!.packet.yiaddr }), hops: 1, giaddr: SERVER };
      await relay.send(request, harness.server.ports.dhcp);
      const ack = await relay.reply(request.xid);
      expect(messageTypeOf(ack!.packet)).toBe('ACK');
      expect(ack!.packet.yiaddr).toBe(offer!.packet.yiaddr);
      // Nothing went to the client's own port.
      expect(await harness.client.reply(discover.xid, 100)).toBeNull();
    } finally {
      relay.close();
    }
  });

  it('runs DISCOVER/OFFER/REQUEST/ACK with lease options and the boot file', async () => {
    const harness = await start('full', { pool: pool() });
    const result = await dora(harness, '52:54:00:00:01:01');
    expect(result!.offer.yiaddr).toBe('127.0.0.100');
    expect(messageTypeOf(result!.ack!)).toBe('ACK');
    expect(result!.ack!.yiaddr).toBe('127.0.0.100');
    expect(result!.ack!.file).toBe('undionly.kpxe');
    expect(result!.ack!.options.get(Option.LEASE_TIME)!.readUInt32BE(0)).toBe(600);
    expect(readAddressOption(result!.ack!, Option.SUBNET_MASK)).toBe('255.0.0.0');
    expect(harness.events.find((event) => event.kind === 'lease.granted')).toMatchObject({ ip: '127.0.0.100' });
  });

  it('gives plain DHCP clients an address but no boot file', async () => {
    const harness = await start('full', { pool: pool() });
    const result = await dora(harness, '52:54:00:00:01:02', 'plain');
    expect(result!.ack!.yiaddr).toMatch(/^127\.0\.0\.1\d\d$/);
    expect(result!.ack!.file).toBe('');
    expect(result!.ack!.options.has(Option.BOOTFILE_NAME)).toBe(false);
  });

  it('never hands one address to two clients and stays silent when the pool is exhausted', async () => {
    const harness = await start('full', { pool: pool(new MemoryLeaseStore(), 2) });
    const a = await dora(harness, '52:54:00:00:02:01');
    const b = await dora(harness, '52:54:00:00:02:02');
    expect(a!.ack!.yiaddr).not.toBe(b!.ack!.yiaddr);
    expect(await dora(harness, '52:54:00:00:02:03')).toBeNull();
    expect(harness.events.find((event) => event.kind === 'dhcp.ignored')).toMatchObject({ reason: expect.stringMatching(/pool is exhausted/) });
  });

  it('NAKs a REQUEST for an address leased to someone else', async () => {
    const harness = await start('full', { pool: pool() });
    const a = await dora(harness, '52:54:00:00:03:01');
    const request = buildRequest({ type: 'REQUEST', mac: '52:54:00:00:03:02', serverId: SERVER, requestedIp: a!.ack!.yiaddr });
    await harness.client.send(request, harness.server.ports.dhcp);
    const nak = await harness.client.reply(request.xid);
    expect(messageTypeOf(nak!.packet)).toBe('NAK');
    expect(nak!.packet.options.get(Option.MESSAGE)?.toString()).toMatch(/no offer of .* on record for 52:54:00:00:03:02/);
  });

  it('ignores a REQUEST that selected another server', async () => {
    const harness = await start('full', { pool: pool() });
    const request = buildRequest({ type: 'REQUEST', mac: '52:54:00:00:04:01', serverId: '127.0.0.99', requestedIp: '127.0.0.100' });
    await harness.client.send(request, harness.server.ports.dhcp);
    expect(await harness.client.reply(request.xid, 300)).toBeNull();
    expect(harness.events.find((event) => event.kind === 'dhcp.foreign-server')).toMatchObject({ server: '127.0.0.99' });
  });

  it('handles RELEASE and DECLINE', async () => {
    const leasePool = pool(new MemoryLeaseStore(), 3);
    const harness = await start('full', { pool: leasePool });
    const a = await dora(harness, '52:54:00:00:05:01');
    const release = buildRequest({ type: 'RELEASE', mac: '52:54:00:00:05:01', serverId: SERVER, ciaddr: a!.ack!.yiaddr, flags: 0 });
    await harness.client.send(release, harness.server.ports.dhcp);
    const b = await dora(harness, '52:54:00:00:05:02');
    const decline = buildRequest({ type: 'DECLINE', mac: '52:54:00:00:05:02', serverId: SERVER, requestedIp: b!.ack!.yiaddr });
    await harness.client.send(decline, harness.server.ports.dhcp);
    await expect.poll(() => harness.events.map((event) => event.kind)).toEqual(expect.arrayContaining(['lease.released', 'lease.declined']));
    expect(leasePool.leaseFor(parseMac('52:54:00:00:05:01')!)).toBeUndefined();
    // The declined address stays out of the pool: the next client gets another one.
    const c = await dora(harness, '52:54:00:00:05:03');
    expect(c!.ack!.yiaddr).not.toBe(b!.ack!.yiaddr);
  });

  it('answers INFORM without a lease time, by unicast to ciaddr', async () => {
    const harness = await start('full', { pool: pool() });
    const inform = buildRequest({ type: 'INFORM', mac: '52:54:00:00:06:01', profile: 'bios-pxe', ciaddr: '127.0.0.1', flags: 0 });
    await harness.client.send(inform, harness.server.ports.dhcp);
    const ack = await harness.client.reply(inform.xid);
    expect(messageTypeOf(ack!.packet)).toBe('ACK');
    expect(ack!.packet.yiaddr).toBe('0.0.0.0');
    expect(ack!.packet.options.has(Option.LEASE_TIME)).toBe(false);
    expect(ack!.packet.file).toBe('undionly.kpxe');
  });

  it('keeps leases across a restart: the same client gets its address back, no one else gets it', async () => {
    const store = new MemoryLeaseStore();
    const first = await start('full', { pool: pool(store) });
    const a = await dora(first, '52:54:00:00:07:01');
    await first.server.close();
    first.client.close();
    open = open.filter((harness) => harness !== first);

    const second = await start('full', { pool: pool(store) });
    const other = await dora(second, '52:54:00:00:07:02');
    expect(other!.ack!.yiaddr).not.toBe(a!.ack!.yiaddr);
    const again = await dora(second, '52:54:00:00:07:01');
    expect(again!.ack!.yiaddr).toBe(a!.ack!.yiaddr);
  });
});

describe('full DHCP against pool starvation (100 addresses)', () => {
  const flooder = (n: number) => `02:00:00:00:${(n >> 8).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`;

  async function flood(harness: Harness, packets: DhcpPacket[]): Promise<void> {
    for (const packet of packets) await harness.client.send(packet, harness.server.ports.dhcp);
    await expect.poll(() => harness.server.stats.received, { timeout: 5000 }).toBe(packets.length);
  }

  it('150 DISCOVERs from made-up MACs leave a legit client an address', async () => {
    const harness = await start('full', { pool: pool(new MemoryLeaseStore(), 100) });
    await flood(harness, Array.from({ length: 150 }, (_, n) => buildRequest({ type: 'DISCOVER', mac: flooder(n) })));
    const legit = await dora(harness, '52:54:00:00:aa:01');
    expect(legit?.ack && messageTypeOf(legit.ack)).toBe('ACK');
  });

  it('100 REQUESTs without a DISCOVER bind nothing: NAKed in SELECTING, silence for INIT-REBOOT and renewals of strangers', async () => {
    const leasePool = pool(new MemoryLeaseStore(), 100);
    const harness = await start('full', { pool: leasePool });
    const requests = Array.from({ length: 100 }, (_, n) => {
      const ip = `127.0.0.${100 + n}`;
      if (n % 3 === 0) return buildRequest({ type: 'REQUEST', mac: flooder(n), serverId: SERVER, requestedIp: ip });
      if (n % 3 === 1) return buildRequest({ type: 'REQUEST', mac: flooder(n), requestedIp: ip });
      return buildRequest({ type: 'REQUEST', mac: flooder(n), ciaddr: ip, flags: 0 });
    });
    await flood(harness, requests);
    expect(leasePool.leases()).toHaveLength(0);
    expect(harness.events.filter((event) => event.kind === 'lease.granted')).toHaveLength(0);
    const legit = await dora(harness, '52:54:00:00:aa:02');
    expect(legit?.ack && messageTypeOf(legit.ack)).toBe('ACK');
  });

  it('a client that rebooted gets its own lease back without a DISCOVER (INIT-REBOOT)', async () => {
    const harness = await start('full', { pool: pool(new MemoryLeaseStore(), 100) });
    const first = await dora(harness, '52:54:00:00:aa:03', 'plain');
    const reboot = buildRequest({ type: 'REQUEST', mac: '52:54:00:00:aa:03', requestedIp: first!.ack!.yiaddr });
    await harness.client.send(reboot, harness.server.ports.dhcp);
    const ack = await harness.client.reply(reboot.xid);
    expect(ack && messageTypeOf(ack.packet)).toBe('ACK');
    expect(ack!.packet.yiaddr).toBe(first!.ack!.yiaddr);
  });

  it('DECLINEs of addresses the sender does not hold quarantine nothing', async () => {
    const harness = await start('full', { pool: pool(new MemoryLeaseStore(), 100) });
    await flood(
      harness,
      Array.from({ length: 100 }, (_, n) => buildRequest({ type: 'DECLINE', mac: flooder(n), serverId: SERVER, requestedIp: `127.0.0.${100 + n}` })),
    );
    expect(harness.events.filter((event) => event.kind === 'lease.declined')).toHaveLength(0);
    const legit = await dora(harness, '52:54:00:00:aa:04');
    expect(legit!.ack!.yiaddr).toBe('127.0.0.100');
  });

  it('answers at most the limit of new MACs a second and says how many it turned away', async () => {
    const harness = await start('full', { pool: pool(new MemoryLeaseStore(), 100), newClientLimit: { perSecond: 1, burst: 10 } });
    const discovers = Array.from({ length: 40 }, (_, n) => buildRequest({ type: 'DISCOVER', mac: flooder(n) }));
    await flood(harness, discovers);
    await expect.poll(() => harness.events.find((event) => event.kind === 'notice'), { timeout: 3000 }).toMatchObject({
      level: 'warning',
      message: expect.stringMatching(/^30 DISCOVERs from machines never seen before went unanswered in the last second/),
    });
    expect(harness.events.filter((event) => event.kind === 'dhcp.sent')).toHaveLength(10);
    // A machine that holds an offer is not new: its REQUEST and DISCOVERs still pass.
    const request = buildRequest({ type: 'DISCOVER', mac: flooder(0) });
    await harness.client.send(request, harness.server.ports.dhcp);
    expect(await harness.client.reply(request.xid)).not.toBeNull();
  });
});
