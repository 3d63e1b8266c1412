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
  const sent: Array<{ message: ReturnType<typeof decode>; destination: string }> = [];
  const socket: Icmp6Socket = {
    device: 'bench0',
    interfaceIndex: 2,
    send: (bytes, destination) => sent.push({ message: decode(bytes), destination }),
    receive: () => inbox.splice(0),
    close: () => undefined,
  };
  return { socket, inbox, sent };
}

function advert(mac: Mac, routerLifetime: number): Buffer {
  const message: RouterAdvert = { kind: 'router-advert', curHopLimit: 64, managed: false, other: true, preference: 'medium', routerLifetime, reachableTime: 0, retransTimer: 0, options: [{ type: 'source-link-layer', mac }] };
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
