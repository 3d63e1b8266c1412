// The DHCPv6 server over loopback (::1, ephemeral ports), fed the packets real firmware sent in the lab.
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Option, StatusCode } from '../../../src/protocol/dhcp6/constants.js';
import { decodeBootFileUrl, decodeIaNa, encodeDuid, encodeIaAddress, encodeIaNa, iaAddresses, statusOf } from '../../../src/protocol/dhcp6/options.js';
import { decode, encode, findOption, option, type Dhcp6ClientServerMessage, type Dhcp6Option } from '../../../src/protocol/dhcp6/packet.js';
import { openUdpSocket } from '../../../src/servers/net/device-socket.js';
import { createDhcp6Server, type Dhcp6Mode, type Dhcp6Server } from '../../../src/servers/dhcp6/server.js';
import { Lease6Pool, type Lease6, type Lease6Store } from '../../../src/servers/dhcp6/lease-pool6.js';
import type { PxedeckEvent } from '../../../src/servers/events.js';
import { readLeaseJournal } from '../../../src/state/lease-journal-read.js';
import { openLease6File } from '../../../src/state/lease6-file.js';

const fixtures = resolve(import.meta.dirname, '../../fixtures/dhcp6');
const fixture = (name: string) => decode(Buffer.from(readFileSync(resolve(fixtures, `${name}.hex`), 'utf8').replace(/\s+/g, ''), 'hex')) as Dhcp6ClientServerMessage;
const ipxeSolicit = fixture('v6-bios-ipxe-rom.bios-ipxe-rom.solicit');
const ipxeRequestToDnsmasq = fixture('v6-bios-ipxe-rom.bios-ipxe-rom.request');
const ovmfSolicit = fixture('v6-uefi-pxe-chain-ipxe-efi.uefi-ovmf-pxe.solicit');
const ovmfStackSolicit = fixture('v6-uefi-pxe-chain-ipxe-efi.uefi-ovmf-ip6config.solicit');
const serverDuid = encodeDuid({ type: 'll', hardwareType: 1, linkLayerAddress: Buffer.from('02aabbccdd01', 'hex') });

interface Harness {
  server: Dhcp6Server;
  events: PxedeckEvent[];
  pool?: Lease6Pool;
  exchange(message: Dhcp6ClientServerMessage | Buffer): Promise<Dhcp6ClientServerMessage | undefined>;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function start(mode: Dhcp6Mode, extra: { store?: Lease6Store; ignore?: boolean; serverAddress?: string | null } = {}): Promise<Harness> {
  const events: PxedeckEvent[] = [];
  const client = dgram.createSocket({ type: 'udp6', ipv6Only: true });
  await new Promise<void>((done) => client.bind(0, '::1', done));
  const pool = mode === 'full' ? new Lease6Pool({ first: 'fd77::100', last: 'fd77::103', validSeconds: 600, ...(extra.store && { store: extra.store }) }) : undefined;
  const server = await createDhcp6Server({
    mode,
    serverAddress: extra.serverAddress === null ? undefined : (extra.serverAddress ?? 'fd77::1'),
    serverDuid,
    openSocket: (port) => openUdpSocket({ port, address: '::1', family: 6 }),
    ports: { server: 0, client: client.address().port },
    httpPort: 8080,
    binaries: () => new Set(['undionly.kpxe', 'ipxe.efi']),
    dnsServers: ['fd77::1'],
    preference: 255,
    clientState: () => ({ policy: extra.ignore ? { ignore: true } : {}, history: {} }),
    ...(pool && { pool }),
    emit: (event) => events.push(event),
  });
  cleanups.push(() => server.close(), () => void client.close());
  const exchange = async (message: Dhcp6ClientServerMessage | Buffer) => {
    const bytes = Buffer.isBuffer(message) ? message : encode(message);
    const answer = new Promise<Buffer | undefined>((done) => {
      const timer = setTimeout(() => done(undefined), 300);
      client.once('message', (reply) => {
        clearTimeout(timer);
        done(reply);
      });
    });
    client.send(bytes, server.port, '::1');
    const reply = await answer;
    client.removeAllListeners('message');
    return reply ? (decode(reply) as Dhcp6ClientServerMessage) : undefined;
  };
  return { server, events, exchange, ...(pool && { pool }) };
}

const withOptions = (message: Dhcp6ClientServerMessage, msgType: number, replace: (options: readonly Dhcp6Option[]) => Dhcp6Option[]): Dhcp6ClientServerMessage => ({
  ...message,
  msgType,
  transactionId: (message.transactionId + 1) & 0xffffff,
  options: replace(message.options),
});
const addressesOf = (message: Dhcp6ClientServerMessage) => iaAddresses(decodeIaNa(findOption(message, Option.IA_NA)!)).map((a) => a.address);
const urlOf = (message: Dhcp6ClientServerMessage) => {
  const url = findOption(message, Option.BOOTFILE_URL);
  return url && decodeBootFileUrl(url);
};
function requestFor(solicit: Dhcp6ClientServerMessage, advertise: Dhcp6ClientServerMessage, msgType = 3): Dhcp6ClientServerMessage {
  const ia = decodeIaNa(findOption(solicit, Option.IA_NA)!);
  const [address] = addressesOf(advertise);
  return withOptions(solicit, msgType, (options) => [
    ...options.filter((o) => o.code !== Option.IA_NA),
    option(Option.SERVER_ID, findOption(advertise, Option.SERVER_ID)!),
    option(Option.IA_NA, encodeIaNa({ iaid: ia.iaid, t1: 0, t2: 0, options: [option(Option.IAADDR, encodeIaAddress({ address: address!, preferredLifetime: 0, validLifetime: 0, options: [] }))] })),
  ]);
}

describe('DHCPv6 server, full mode', () => {
  it('answers iPXE: Advertise with an address, the script URL, DNS and preference 255; then Request → Reply and a lease', async () => {
    const { exchange, events, pool } = await start('full');
    const advertise = (await exchange(ipxeSolicit))!;
    expect(advertise.msgType).toBe(2);
    expect(advertise.transactionId).toBe(ipxeSolicit.transactionId);
    expect(findOption(advertise, Option.CLIENT_ID)).toEqual(findOption(ipxeSolicit, Option.CLIENT_ID));
    expect(findOption(advertise, Option.SERVER_ID)).toEqual(serverDuid);
    expect(findOption(advertise, Option.PREFERENCE)).toEqual(Buffer.from([255]));
    expect(addressesOf(advertise)).toEqual(['fd77::100']);
    expect(urlOf(advertise)).toBe('http://[fd77::1]:8080/boot.ipxe');
    const reply = (await exchange(requestFor(ipxeSolicit, advertise)))!;
    expect(reply.msgType).toBe(7);
    expect(addressesOf(reply)).toEqual(['fd77::100']);
    expect(decodeIaNa(findOption(reply, Option.IA_NA)!)).toMatchObject({ t1: 187, t2: 300 });
    expect(pool!.leases()).toMatchObject([{ ip: 'fd77::100', state: 'bound', iaid: 0xfc362932 }]);
    const received = events.find((e) => e.kind === 'dhcp6.received');
    expect(received).toMatchObject({ source: 'dhcp6', messageType: 'SOLICIT', uuid: '7de1c0de-0601-4a11-8b00-000000000601', client: 'ipxe' });
    expect(events.find((e) => e.kind === 'lease6.granted')).toMatchObject({ ip: 'fd77::100', iaid: 0xfc362932 });
    expect(events.filter((e) => e.kind === 'dhcp6.sent').map((e) => (e as { bootFileUrl?: string }).bootFileUrl)).toEqual([
      'http://[fd77::1]:8080/boot.ipxe',
      'http://[fd77::1]:8080/boot.ipxe',
    ]);
  });

  it("gives OVMF's PXE tftp://[addr]/ipxe.efi, and its IPv6 stack an address without a boot file", async () => {
    const { exchange, events } = await start('full');
    const ovmf = (await exchange(ovmfSolicit))!;
    expect(urlOf(ovmf)).toBe('tftp://[fd77::1]/ipxe.efi');
    expect(events.find((e) => e.kind === 'dhcp6.received')).toMatchObject({ uuid: '7de1c0de-0603-4a11-8b00-000000000603', client: 'uefi-pxe' });
    const stack = (await exchange(ovmfStackSolicit))!;
    expect(addressesOf(stack)).toHaveLength(1);
    expect(urlOf(stack)).toBeUndefined();
    // Two IAs of one DUID (the stack's and PXE's IAID) get two addresses.
    expect(addressesOf(stack)[0]).not.toBe(addressesOf(ovmf)[0]);
  });

  it('ignores a Request addressed to another server (the one iPXE chose in the lab)', async () => {
    const { exchange, events, server } = await start('full');
    expect(await exchange(ipxeRequestToDnsmasq)).toBeUndefined();
    expect(events.find((e) => e.kind === 'dhcp6.ignored')).toMatchObject({ reason: /another DHCPv6 server/, otherServer: expect.any(String) });
    expect(server.stats.ignored).toBe(1);
  });

  it('rapid commit: Solicit → Reply with the address bound at once', async () => {
    const { exchange, pool } = await start('full');
    const reply = (await exchange({ ...ipxeSolicit, options: [...ipxeSolicit.options, option(Option.RAPID_COMMIT)] }))!;
    expect(reply.msgType).toBe(7);
    expect(findOption(reply, Option.RAPID_COMMIT)).toBeDefined();
    expect(pool!.leases()[0]).toMatchObject({ state: 'bound' });
  });

  it('Renew extends, Confirm checks the link, Release frees, Decline quarantines', async () => {
    const { exchange, pool, events } = await start('full');
    const advertise = (await exchange(ipxeSolicit))!;
    await exchange(requestFor(ipxeSolicit, advertise));
    const renew = (await exchange(requestFor(ipxeSolicit, advertise, 5)))!;
    expect(renew.msgType).toBe(7);
    expect(addressesOf(renew)).toEqual(['fd77::100']);
    const confirm = (await exchange({ ...requestFor(ipxeSolicit, advertise, 4), options: requestFor(ipxeSolicit, advertise, 4).options.filter((o) => o.code !== Option.SERVER_ID) }))!;
    expect(statusOf(confirm.options)).toMatchObject({ code: StatusCode.SUCCESS });
    const release = (await exchange(requestFor(ipxeSolicit, advertise, 8)))!;
    expect(statusOf(release.options)).toMatchObject({ code: StatusCode.SUCCESS });
    expect(pool!.leases()).toEqual([]);
    expect(events.some((e) => e.kind === 'lease6.released')).toBe(true);
    const again = (await exchange(ipxeSolicit))!;
    await exchange(requestFor(ipxeSolicit, again));
    await exchange(requestFor(ipxeSolicit, again, 9));
    const next = (await exchange(ovmfSolicit))!;
    expect(addressesOf(next)).not.toContain(addressesOf(again)[0]);
  });

  it('an exhausted pool answers NoAddrsAvail inside the IA, never throws', async () => {
    const { exchange } = await start('full');
    for (let i = 0; i < 4; i += 1) {
      const duid = encodeDuid({ type: 'll', hardwareType: 1, linkLayerAddress: Buffer.from([2, 0, 0, 0, 0, i]) });
      await exchange({ ...ipxeSolicit, options: ipxeSolicit.options.map((o) => (o.code === Option.CLIENT_ID ? option(1, duid) : o)) });
    }
    const fifth = (await exchange(ovmfSolicit))!;
    expect(statusOf(decodeIaNa(findOption(fifth, Option.IA_NA)!).options)).toMatchObject({ code: StatusCode.NO_ADDRS_AVAIL });
  });

  it('persists bound leases in the lease file before the Reply, and reloads them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pxedeck-leases6-'));
    try {
      const store = openLease6File(dir);
      const { exchange } = await start('full', { store });
      const advertise = (await exchange(ipxeSolicit))!;
      await exchange(requestFor(ipxeSolicit, advertise));
      // The Reply came: the lease was on disk before it left.
      const saved = readLeaseJournal<Lease6>({ dataDir: dir, name: 'leases6', key: 'leases', isRecord: (value): value is Lease6 => typeof value === 'object', keyOf: (lease) => `${lease.duid}/${lease.iaid}` });
      expect([...saved.records.values()]).toEqual([expect.objectContaining({ ip: 'fd77::100', state: 'bound' })]);
      await store.close();
      const reopened = openLease6File(dir);
      const reloaded = new Lease6Pool({ first: 'fd77::100', last: 'fd77::103', validSeconds: 600, store: reopened });
      const [lease] = reopened.load();
      expect(reloaded.leaseFor(lease!.duid, lease!.iaid)?.ip).toBe('fd77::100');
      await reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('DHCPv6 server, stateless mode', () => {
  it('answers a netboot Solicit with boot options and NoAddrsAvail, ignores the OS stack and Requests', async () => {
    const { exchange, events } = await start('stateless');
    const advertise = (await exchange(ovmfSolicit))!;
    expect(advertise.msgType).toBe(2);
    expect(findOption(advertise, Option.IA_NA)).toBeUndefined();
    expect(statusOf(advertise.options)).toMatchObject({ code: StatusCode.NO_ADDRS_AVAIL });
    expect(urlOf(advertise)).toBe('tftp://[fd77::1]/ipxe.efi');
    expect(await exchange(ovmfStackSolicit)).toBeUndefined();
    const request = withOptions(ipxeSolicit, 3, (options) => [...options, option(Option.SERVER_ID, serverDuid)]);
    expect(await exchange(request)).toBeUndefined();
    expect(events.filter((e) => e.kind === 'dhcp6.ignored').map((e) => (e as { reason: string }).reason)).toEqual([
      expect.stringMatching(/stateless mode: not a network-boot client/),
      'stateless mode hands out no addresses',
    ]);
  });

  it('answers Information-request with the boot URL and DNS', async () => {
    const { exchange } = await start('stateless');
    const info = withOptions(ipxeSolicit, 11, (options) => options.filter((o) => o.code !== Option.IA_NA));
    const reply = (await exchange(info))!;
    expect(reply.msgType).toBe(7);
    expect(urlOf(reply)).toBe('http://[fd77::1]:8080/boot.ipxe');
    expect(findOption(reply, Option.DNS_SERVERS)?.toString('hex')).toBe('fd770000000000000000000000000001');
  });
});

describe('DHCPv6 server when the interface loses the address boot URLs name', () => {
  const states = (events: PxedeckEvent[]) =>
    events.flatMap((e) => (e.kind === 'server.listening' || e.kind === 'server.error' ? [`${e.kind} ${e.server} ${e.address ?? e.message}`] : []));

  it('says it has no address to offer (state and each ignored message), still releases, and follows a new address', async () => {
    const { exchange, events, server, pool } = await start('full');
    const advertise = (await exchange(ipxeSolicit))!;
    await exchange(requestFor(ipxeSolicit, advertise));
    server.setServerAddress(undefined, 'fd77::1 was removed from bench0');
    expect(server.serverAddress()).toBeUndefined();
    expect(await exchange(ovmfSolicit)).toBeUndefined();
    expect(await exchange(requestFor(ipxeSolicit, advertise, 5))).toBeUndefined();
    const info = withOptions(ipxeSolicit, 11, (options) => options.filter((o) => o.code !== Option.IA_NA));
    expect(await exchange(info)).toBeUndefined();
    const reasons = events.filter((e) => e.kind === 'dhcp6.ignored').map((e) => (e as { reason: string }).reason);
    expect(reasons).toEqual(Array(3).fill('no IPv6 address to offer in boot URLs: fd77::1 was removed from bench0'));
    // A Release needs no URL: the lease is freed as always.
    const release = (await exchange(requestFor(ipxeSolicit, advertise, 8)))!;
    expect(statusOf(release.options)).toMatchObject({ code: StatusCode.SUCCESS });
    expect(pool!.leases()).toEqual([]);

    server.setServerAddress('fd77::2');
    expect(urlOf((await exchange(ovmfSolicit))!)).toBe('tftp://[fd77::2]/ipxe.efi');
    expect(states(events)).toEqual([
      `server.listening dhcp6-full [fd77::1]:${server.port}`,
      'server.error dhcp6-full no IPv6 address to offer in boot URLs: fd77::1 was removed from bench0',
      `server.listening dhcp6-full [fd77::2]:${server.port}`,
    ]);
    // The same address again reports nothing.
    server.setServerAddress('fd77::2');
    expect(states(events)).toHaveLength(3);
  });

  it('starts without an address: listening, and in error until it gets one', async () => {
    const { exchange, events, server } = await start('stateless', { serverAddress: null });
    expect(await exchange(ovmfSolicit)).toBeUndefined();
    expect(states(events)).toEqual([
      `server.listening dhcp6-stateless [::]:${server.port}`,
      'server.error dhcp6-stateless no IPv6 address to offer in boot URLs: the interface has no global or ULA IPv6 address',
    ]);
    server.setServerAddress('fd77::1');
    expect(urlOf((await exchange(ovmfSolicit))!)).toBe('tftp://[fd77::1]/ipxe.efi');
  });
});

describe('DHCPv6 server robustness', () => {
  it('counts and drops malformed packets and keeps serving', async () => {
    const { exchange, events, server } = await start('full');
    expect(await exchange(Buffer.from('01123456000800030000', 'hex'))).toBeUndefined();
    expect(await exchange(Buffer.from('00', 'hex'))).toBeUndefined();
    expect(server.stats.malformed).toBe(2);
    expect(events.find((e) => e.kind === 'packet.malformed')).toMatchObject({ source: 'dhcp6', error: /elapsed-time.*at offset 4/, length: 10 });
    expect((await exchange(ipxeSolicit))?.msgType).toBe(2);
  });

  it('ignores machines the operator set to ignore, and server-only message types', async () => {
    const ignored = await start('full', { ignore: true });
    expect(await ignored.exchange(ipxeSolicit)).toBeUndefined();
    const { exchange, events } = await start('full');
    expect(await exchange({ ...ipxeSolicit, msgType: 7 })).toBeUndefined();
    expect(events.find((e) => e.kind === 'dhcp6.ignored')).toMatchObject({ reason: /REPLY is not for a server/ });
  });
});
