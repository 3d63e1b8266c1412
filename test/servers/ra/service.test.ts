/**
 * The RA service's decisions over an in-memory socket (the real one is tested in namespaces, see
 * service.netns.test.ts): bounded events over a long run, the tie-break between two zero-lifetime
 * advertisers, the rate limit on solicitations, which prefixes an interface suggests.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { decode, encode, type RouterAdvert } from '../../../src/protocol/icmpv6/router-discovery.js';
import { parseMac, type Mac } from '../../../src/protocol/mac.js';
import type { PxedeckEvent } from '../../../src/servers/events.js';
import type { Icmp6Datagram, Icmp6Socket } from '../../../src/servers/ra/icmpv6-socket.js';
import { createRouterAdvertService, prefixesFromAddresses } from '../../../src/servers/ra/service.js';

const ours = parseMac('52:54:00:00:00:50')!;

function memorySocket() {
  const inbox: Icmp6Datagram[] = [];
  const sent: Array<{ message: ReturnType<typeof decode>; destination: string; bytes: Buffer }> = [];
  const socket: Icmp6Socket = {
    device: 'bench0',
    interfaceIndex: 2,
    send: (bytes, destination) => sent.push({ message: decode(bytes), destination, bytes: Buffer.from(bytes) }),
    receive: () => inbox.splice(0),
    close: () => undefined,
  };
  return { socket, inbox, sent };
}

function advert(mac: Mac, routerLifetime: number, preference: RouterAdvert['preference'] = 'medium'): Buffer {
  const message: RouterAdvert = { kind: 'router-advert', curHopLimit: 64, managed: false, other: true, preference, routerLifetime, reachableTime: 0, retransTimer: 0, options: [{ type: 'source-link-layer', mac }] };
  return encode(message);
}

describe('router advertisement service decisions', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  async function start(memory: ReturnType<typeof memorySocket>) {
    const events: PxedeckEvent[] = [];
    const service = await createRouterAdvertService({
      interfaceName: 'bench0',
      mac: ours,
      prefixes: [{ prefix: 'fd77::', prefixLength: 64, autonomous: true }],
      openSocket: () => memory.socket,
      emit: (event) => events.push(event),
      now: () => Date.now(),
    });
    return { service, events };
  }

  it('solicits, then advertises every ~10 s for 10 minutes with a bounded number of events', async () => {
    const memory = memorySocket();
    const { service, events } = await start(memory);
    expect(memory.sent[0]).toMatchObject({ destination: 'ff02::2', message: { kind: 'router-solicit' } });
    await vi.advanceTimersByTimeAsync(600_000);
    const adverts = memory.sent.filter((entry) => entry.message.kind === 'router-advert');
    expect(adverts.length).toBeGreaterThanOrEqual(55);
    expect(adverts.length).toBeLessThanOrEqual(67);
    expect(adverts.every((entry) => entry.destination === 'ff02::1')).toBe(true);
    const sentEvents = events.filter((event) => event.kind === 'ra.sent');
    expect(sentEvents.length).toBeLessThanOrEqual(11);
    expect(events.filter((event) => event.kind === 'ra.started')).toHaveLength(1);
    await service.close();
    expect(events.at(-2)).toMatchObject({ kind: 'ra.stopped', reason: 'pxedeck is closing' });
  });

  it('of two zero-lifetime advertisers the lower MAC keeps advertising', async () => {
    const memory = memorySocket();
    const { service } = await start(memory);
    await vi.advanceTimersByTimeAsync(3100);
    expect(service.state()).toBe('advertising');
    memory.inbox.push({ data: advert(parseMac('52:54:00:00:00:99')!, 0), from: 'fe80::99' });
    await vi.advanceTimersByTimeAsync(200);
    expect(service.state()).toBe('advertising');
    memory.inbox.push({ data: advert(parseMac('52:54:00:00:00:01')!, 0), from: 'fe80::1' });
    await vi.advanceTimersByTimeAsync(200);
    expect(service.state()).toBe('deferring');
    expect(service.routers().map((router) => router.address)).toEqual(['fe80::99', 'fe80::1']);
    await service.close();
  });

  it('answers solicitations by unicast, at most 20 a second', async () => {
    const memory = memorySocket();
    const { service, events } = await start(memory);
    await vi.advanceTimersByTimeAsync(3100);
    const solicit = encode({ kind: 'router-solicit', options: [{ type: 'source-link-layer', mac: parseMac('52:54:00:00:00:07')! }] });
    for (let i = 0; i < 50; i += 1) memory.inbox.push({ data: solicit, from: `fe80::${i + 1}` });
    memory.inbox.push({ data: solicit, from: '::' });
    await vi.advanceTimersByTimeAsync(150);
    const answered = memory.sent.filter((entry) => entry.destination.startsWith('fe80::'));
    expect(answered).toHaveLength(20);
    expect(events.filter((event) => event.kind === 'ra.sent' && event.reason?.startsWith('solicited'))).toHaveLength(20);
    await service.close();
  });

  it('a malformed packet is counted and reported, never thrown', async () => {
    const memory = memorySocket();
    const { service, events } = await start(memory);
    memory.inbox.push({ data: Buffer.from('8600', 'hex'), from: 'fe80::5' });
    await vi.advanceTimersByTimeAsync(150);
    expect(service.stats.malformed).toBe(1);
    expect(events.find((event) => event.kind === 'packet.malformed')).toMatchObject({ source: 'ra', peer: 'fe80::5' });
    await service.close();
  });
});

describe('router advertisement service: taking over when the router leaves (fake clock)', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  const routerMac = parseMac('52:54:00:00:00:01')!;
  const solicits = (memory: ReturnType<typeof memorySocket>) => memory.sent.filter((entry) => entry.message.kind === 'router-solicit').length;
  const adverts = (memory: ReturnType<typeof memorySocket>) => memory.sent.filter((entry) => entry.message.kind === 'router-advert').length;
  const kinds = (events: PxedeckEvent[]) => events.filter((event) => event.kind.startsWith('ra.') && event.kind !== 'ra.sent').map((event) => event.kind);

  async function deferringTo(lifetime: number, mac = routerMac) {
    const memory = memorySocket();
    const events: PxedeckEvent[] = [];
    const service = await createRouterAdvertService({
      interfaceName: 'bench0',
      mac: ours,
      prefixes: [{ prefix: 'fd77::', prefixLength: 64, autonomous: true }],
      listenMs: 2000,
      openSocket: () => memory.socket,
      emit: (event) => events.push(event),
      now: () => Date.now(),
    });
    // The router answers our first solicitation.
    memory.inbox.push({ data: advert(mac, lifetime), from: 'fe80::1' });
    await vi.advanceTimersByTimeAsync(2100);
    expect(service.state()).toBe('deferring');
    return { memory, events, service };
  }

  it('stays quiet for the router lifetime, then asks, then takes over; stops again when the router is back', async () => {
    const { memory, events, service } = await deferringTo(9);
    // Answered at once: the second solicitation half a listen later is not sent.
    expect(solicits(memory)).toBe(1);
    // The router's last RA was at ~0.1 s; at 9 s it still counts.
    await vi.advanceTimersByTimeAsync(6800);
    expect(service.state()).toBe('deferring');
    expect(solicits(memory)).toBe(1);
    // Its lifetime runs out: we ask once (and again half a listen later), without advertising yet.
    await vi.advanceTimersByTimeAsync(300);
    expect(service.state()).toBe('listening');
    expect(solicits(memory)).toBe(2);
    expect(adverts(memory)).toBe(0);
    await vi.advanceTimersByTimeAsync(2100);
    expect(solicits(memory)).toBe(3);
    expect(service.state()).toBe('advertising');
    expect(adverts(memory)).toBe(1);
    expect(kinds(events)).toEqual(['ra.router-seen', 'ra.router-gone', 'ra.started']);
    expect(events.find((event) => event.kind === 'ra.started')).toMatchObject({
      reason: 'the router lifetime of router fe80::1 ran out; no router answered within 2000 ms',
      managed: true,
      other: true,
      routerLifetime: 0,
    });
    expect(events.find((event) => event.kind === 'ra.router-gone')).toMatchObject({ router: 'fe80::1', interface: 'bench0' });
    expect(service.routers()).toEqual([]);

    // The router comes back: we stop, without a final RA of our own (ours all carry lifetime 0 already).
    const sentBefore = memory.sent.length;
    memory.inbox.push({ data: advert(routerMac, 9), from: 'fe80::1' });
    await vi.advanceTimersByTimeAsync(150);
    expect(service.state()).toBe('deferring');
    expect(memory.sent.length).toBe(sentBefore);
    expect(kinds(events)).toEqual(['ra.router-seen', 'ra.router-gone', 'ra.started', 'ra.router-seen', 'ra.stopped']);
    await service.close();
  });

  it('a router that keeps advertising within its lifetime keeps us quiet for good, with no events', async () => {
    const { memory, events, service } = await deferringTo(9);
    for (let second = 0; second < 120; second += 6) {
      memory.inbox.push({ data: advert(routerMac, 9), from: 'fe80::1' });
      await vi.advanceTimersByTimeAsync(6000);
    }
    expect(service.state()).toBe('deferring');
    expect(solicits(memory)).toBe(1);
    expect(kinds(events)).toEqual(['ra.router-seen']);
    await service.close();
  });

  it('a router that answers when asked after its lifetime ran out keeps us quiet', async () => {
    const { memory, events, service } = await deferringTo(9);
    await vi.advanceTimersByTimeAsync(7000);
    expect(service.state()).toBe('listening');
    memory.inbox.push({ data: advert(routerMac, 9), from: 'fe80::1' });
    await vi.advanceTimersByTimeAsync(3000);
    expect(service.state()).toBe('deferring');
    expect(adverts(memory)).toBe(0);
    expect(kinds(events)).toEqual(['ra.router-seen']);
    await service.close();
  });

  it('a router that withdraws with lifetime 0 is gone at once; its further zero-lifetime RAs do not silence us', async () => {
    const { memory, events, service } = await deferringTo(1800);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(service.state()).toBe('deferring');
    memory.inbox.push({ data: advert(routerMac, 0), from: 'fe80::1' });
    await vi.advanceTimersByTimeAsync(150);
    expect(service.state()).toBe('listening');
    expect(events.at(-1)).toMatchObject({ kind: 'ra.router-gone', router: 'fe80::1', reason: 'it advertised router lifetime 0' });
    // Routers send up to three final RAs: the later ones do not count as "a router answered".
    memory.inbox.push({ data: advert(routerMac, 0), from: 'fe80::1' });
    await vi.advanceTimersByTimeAsync(2000);
    expect(service.state()).toBe('advertising');
    expect(events.find((event) => event.kind === 'ra.started')).toMatchObject({ reason: 'router fe80::1 withdrew (router lifetime 0); no router answered within 2000 ms' });
    memory.inbox.push({ data: advert(routerMac, 0), from: 'fe80::1' });
    await vi.advanceTimersByTimeAsync(150);
    expect(service.state()).toBe('advertising');
    // Offering a lifetime again, it is the segment's router again.
    memory.inbox.push({ data: advert(routerMac, 1800), from: 'fe80::1' });
    await vi.advanceTimersByTimeAsync(150);
    expect(service.state()).toBe('deferring');
    expect(kinds(events)).toEqual(['ra.router-seen', 'ra.router-gone', 'ra.started', 'ra.router-seen', 'ra.stopped']);
    await service.close();
  });

  it('advertising again soon after stopping keeps one cadence of ~10 s, not two', async () => {
    const memory = memorySocket();
    const service = await createRouterAdvertService({
      interfaceName: 'bench0',
      mac: ours,
      prefixes: [],
      listenMs: 2000,
      openSocket: () => memory.socket,
      emit: () => undefined,
      now: () => Date.now(),
    });
    await vi.advanceTimersByTimeAsync(2100);
    expect(service.state()).toBe('advertising');
    // A router turns up a second into our interval and withdraws at once: we are back 2 s later.
    await vi.advanceTimersByTimeAsync(1000);
    memory.inbox.push({ data: advert(routerMac, 1800), from: 'fe80::1' });
    await vi.advanceTimersByTimeAsync(150);
    expect(service.state()).toBe('deferring');
    memory.inbox.push({ data: advert(routerMac, 0), from: 'fe80::1' });
    await vi.advanceTimersByTimeAsync(2200);
    expect(service.state()).toBe('advertising');
    const before = adverts(memory);
    await vi.advanceTimersByTimeAsync(100_000);
    expect(adverts(memory) - before).toBeGreaterThanOrEqual(9);
    expect(adverts(memory) - before).toBeLessThanOrEqual(12);
    await service.close();
  });

  it('another pxedeck (lifetime 0) counts for three of our intervals after its last RA', async () => {
    const { memory, events, service } = await deferringTo(0);
    // It advertises every 10 s for a minute, then is switched off.
    for (let i = 0; i < 6; i += 1) {
      memory.inbox.push({ data: advert(routerMac, 0), from: 'fe80::1' });
      await vi.advanceTimersByTimeAsync(10_000);
    }
    expect(service.state()).toBe('deferring');
    await vi.advanceTimersByTimeAsync(19_000);
    expect(service.state()).toBe('deferring');
    await vi.advanceTimersByTimeAsync(1100);
    expect(service.state()).toBe('listening');
    await vi.advanceTimersByTimeAsync(2000);
    expect(service.state()).toBe('advertising');
    expect(kinds(events)).toEqual(['ra.router-seen', 'ra.router-gone', 'ra.started']);
    await service.close();
  });

  it('while advertising, a zero-lifetime advertiser we outrank is reported gone once it falls silent', async () => {
    const memory = memorySocket();
    const events: PxedeckEvent[] = [];
    const service = await createRouterAdvertService({
      interfaceName: 'bench0',
      mac: ours,
      prefixes: [],
      openSocket: () => memory.socket,
      emit: (event) => events.push(event),
      now: () => Date.now(),
    });
    await vi.advanceTimersByTimeAsync(3100);
    memory.inbox.push({ data: advert(parseMac('52:54:00:00:00:99')!, 0), from: 'fe80::99' });
    await vi.advanceTimersByTimeAsync(29_000);
    expect(service.routers().map((router) => router.address)).toEqual(['fe80::99']);
    await vi.advanceTimersByTimeAsync(1500);
    expect(service.routers()).toEqual([]);
    expect(service.state()).toBe('advertising');
    expect(kinds(events)).toEqual(['ra.started', 'ra.router-seen', 'ra.router-gone']);
    await service.close();
  });
});

describe('router advertisement service with a router lifetime (full DHCP on a bench; fake clock)', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  const adverts = (memory: ReturnType<typeof memorySocket>) => memory.sent.filter((entry) => entry.message.kind === 'router-advert');

  async function advertising(routerLifetime: number, mac = ours) {
    const memory = memorySocket();
    const events: PxedeckEvent[] = [];
    const service = await createRouterAdvertService({
      interfaceName: 'bench0',
      mac,
      prefixes: [{ prefix: 'fd77::', prefixLength: 64, autonomous: true }],
      routerLifetime,
      listenMs: 2000,
      openSocket: () => memory.socket,
      emit: (event) => events.push(event),
      now: () => Date.now(),
    });
    await vi.advanceTimersByTimeAsync(2100);
    expect(service.state()).toBe('advertising');
    return { memory, events, service };
  }

  it('carries the lifetime and the low preference in every RA, periodic and solicited', async () => {
    const { memory, events, service } = await advertising(30);
    const solicit = encode({ kind: 'router-solicit', options: [{ type: 'source-link-layer', mac: parseMac('52:54:00:00:00:07')! }] });
    memory.inbox.push({ data: solicit, from: 'fe80::7' });
    await vi.advanceTimersByTimeAsync(60_000);
    const sent = adverts(memory);
    expect(sent.length).toBeGreaterThanOrEqual(6);
    for (const { bytes } of sent) {
      // RFC 4861 §4.2: flags byte 5 (M, O, then RFC 4191 preference in bits 4–3: 11 = low), router lifetime in bytes 6–7.
      expect(bytes[5]).toBe(0x80 | 0x40 | (0b11 << 3));
      expect(bytes.readUInt16BE(6)).toBe(30);
    }
    expect(sent.some((entry) => entry.destination === 'fe80::7')).toBe(true);
    expect(events.find((event) => event.kind === 'ra.started')).toMatchObject({ routerLifetime: 30 });
    expect(events.filter((event) => event.kind === 'ra.sent').every((event) => event.kind === 'ra.sent' && event.routerLifetime === 30)).toBe(true);
    await service.close();
  });

  it('withdraws on close: one final RA to ff02::1 with lifetime 0, our flags and no prefixes', async () => {
    const { memory, events, service } = await advertising(30);
    const before = memory.sent.length;
    await service.close();
    const after = memory.sent.slice(before);
    expect(after).toHaveLength(1);
    expect(after[0]!.destination).toBe('ff02::1');
    expect(after[0]!.bytes.readUInt16BE(6)).toBe(0);
    // Zero lifetime: the preference bits must say medium (RFC 4191 §2.2).
    expect(after[0]!.bytes[5]).toBe(0x80 | 0x40);
    expect(after[0]!.message).toMatchObject({ kind: 'router-advert', managed: true, other: true, routerLifetime: 0, options: [{ type: 'source-link-layer', mac: ours }] });
    expect(events.slice(-3).map((event) => event.kind)).toEqual(['ra.sent', 'ra.stopped', 'server.closed']);
    expect(events.at(-3)).toMatchObject({ routerLifetime: 0, prefixes: [], reason: 'final to ff02::1 (pxedeck is closing): hosts drop pxedeck as default router' });
    expect(events.at(-2)).toMatchObject({ reason: 'pxedeck is closing; sent a final RA with router lifetime 0' });
  });

  it('a close that cannot send the final RA says so in the stop reason, not as a server error', async () => {
    const { memory, events, service } = await advertising(30);
    memory.socket.send = () => {
      throw new Error('ENODEV (no such device)');
    };
    await service.close();
    expect(events.some((event) => event.kind === 'server.error')).toBe(false);
    expect(events.at(-2)).toMatchObject({
      kind: 'ra.stopped',
      reason: 'pxedeck is closing; final router advertisement not sent: ENODEV (no such device) (hosts keep pxedeck as default router up to 30 s)',
    });
  });

  it('with lifetime 0 nothing more is sent on close', async () => {
    const { memory, events, service } = await advertising(0);
    expect(adverts(memory).every(({ bytes }) => bytes.readUInt16BE(6) === 0 && bytes[5] === 0xc0)).toBe(true);
    const before = memory.sent.length;
    await service.close();
    expect(memory.sent.length).toBe(before);
    expect(events.at(-2)).toMatchObject({ kind: 'ra.stopped', reason: 'pxedeck is closing' });
  });

  it('yields to a real router with a final RA carrying the router\'s flags, then stays quiet', async () => {
    const { memory, events, service } = await advertising(30);
    const before = memory.sent.length;
    // The router: M off, O on, medium preference, lifetime 1800; a higher MAC does not matter against a real router.
    memory.inbox.push({ data: advert(parseMac('52:54:00:00:00:99')!, 1800), from: 'fe80::99' });
    await vi.advanceTimersByTimeAsync(150);
    expect(service.state()).toBe('deferring');
    const final = memory.sent.slice(before);
    expect(final).toHaveLength(1);
    expect(final[0]!.message).toMatchObject({ kind: 'router-advert', managed: false, other: true, routerLifetime: 0, options: [{ type: 'source-link-layer' }] });
    expect(final[0]!.bytes.readUInt16BE(6)).toBe(0);
    expect(events.at(-1)).toMatchObject({ kind: 'ra.stopped', reason: 'router fe80::99 advertises on bench0; sent a final RA with router lifetime 0' });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(memory.sent.length).toBe(before + 1);
    // Nothing more on close either: we no longer advertise.
    await service.close();
    expect(memory.sent.length).toBe(before + 1);
  });

  it('a pxedeck with a lifetime outranks a zero-lifetime advertiser of any MAC', async () => {
    const { memory, service } = await advertising(30);
    memory.inbox.push({ data: advert(parseMac('52:54:00:00:00:01')!, 0), from: 'fe80::1' });
    await vi.advanceTimersByTimeAsync(150);
    expect(service.state()).toBe('advertising');
    expect(memory.sent.filter((entry) => entry.bytes.readUInt16BE(6) === 0 && entry.message.kind === 'router-advert')).toEqual([]);
    await service.close();
  });

  it('a zero-lifetime pxedeck yields to a pxedeck with a lifetime, whatever the MACs, and has nothing to withdraw', async () => {
    const { memory, service } = await advertising(0, parseMac('52:54:00:00:00:01')!);
    const before = memory.sent.length;
    memory.inbox.push({ data: advert(parseMac('52:54:00:00:00:99')!, 30, 'low'), from: 'fe80::99' });
    await vi.advanceTimersByTimeAsync(150);
    expect(service.state()).toBe('deferring');
    expect(memory.sent.length).toBe(before);
    await service.close();
  });

  it('of two pxedecks with a lifetime (low preference) the lower MAC keeps advertising, the other withdraws', async () => {
    const { memory, events, service } = await advertising(30);
    memory.inbox.push({ data: advert(parseMac('52:54:00:00:00:99')!, 30, 'low'), from: 'fe80::99' });
    await vi.advanceTimersByTimeAsync(150);
    expect(service.state()).toBe('advertising');
    const before = memory.sent.length;
    memory.inbox.push({ data: advert(parseMac('52:54:00:00:00:01')!, 30, 'low'), from: 'fe80::1' });
    await vi.advanceTimersByTimeAsync(150);
    expect(service.state()).toBe('deferring');
    expect(memory.sent.slice(before).map((entry) => entry.bytes.readUInt16BE(6))).toEqual([0]);
    expect(events.at(-1)).toMatchObject({ kind: 'ra.stopped', reason: 'router fe80::1 advertises on bench0; sent a final RA with router lifetime 0' });
    await service.close();
  });

  it('advertises the interface\'s new prefixes at once when they change, and reports them', async () => {
    const { memory, events, service } = await advertising(30);
    const before = memory.sent.length;
    service.setPrefixes([{ prefix: 'fd77:2::', prefixLength: 64, autonomous: true }]);
    const now = memory.sent.slice(before);
    expect(now).toHaveLength(1);
    expect(now[0]).toMatchObject({ destination: 'ff02::1', message: { kind: 'router-advert', routerLifetime: 30, options: [{ type: 'source-link-layer' }, { type: 'prefix', prefix: 'fd77:2::', prefixLength: 64 }] } });
    expect(events.at(-1)).toMatchObject({ kind: 'ra.started', prefixes: ['fd77:2::/64'], reason: 'the prefixes on bench0 changed' });
    // The same prefixes again: nothing sent, nothing reported.
    service.setPrefixes([{ prefix: 'fd77:2::', prefixLength: 64, autonomous: true }]);
    expect(memory.sent.length).toBe(before + 1);
    // None left: RAs go on (M/O still send firmware to DHCPv6), without a prefix.
    service.setPrefixes([]);
    await vi.advanceTimersByTimeAsync(11_000);
    expect(adverts(memory).slice(-1)[0]!.message).toMatchObject({ options: [{ type: 'source-link-layer' }] });
    await service.close();
  });

  it('refuses a lifetime RFC 4861 does not allow', async () => {
    const memory = memorySocket();
    const start = (routerLifetime: number) =>
      createRouterAdvertService({ interfaceName: 'bench0', mac: ours, prefixes: [], routerLifetime, openSocket: () => memory.socket, emit: () => undefined });
    await expect(start(10)).rejects.toThrow(/router lifetime 10: use 0 .* or 11–9000 seconds/);
    await expect(start(9001)).rejects.toThrow(RangeError);
    await expect(start(1.5)).rejects.toThrow(RangeError);
  });
});

describe('prefixesFromAddresses', () => {
  it('keeps global and ULA networks once each, SLAAC only on /64, never link-local', () => {
    expect(
      prefixesFromAddresses([
        { address: 'fd77::1', prefixLength: 64 },
        { address: 'fd77::2', prefixLength: 64 },
        { address: 'fe80::1', prefixLength: 64 },
        { address: '2001:db8:1:2::9', prefixLength: 56 },
      ]),
    ).toEqual([
      { prefix: 'fd77::', prefixLength: 64, autonomous: true },
      { prefix: '2001:db8:1::', prefixLength: 56, autonomous: false },
    ]);
  });
});
