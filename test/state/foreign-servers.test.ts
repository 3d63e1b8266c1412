import { describe, expect, it } from 'vitest';
import type { Mac } from '../../src/protocol/mac.js';
import type { ForeignDhcpReplyEvent, PxedeckEvent } from '../../src/servers/events.js';
import { FOREIGN_SERVER_LIMIT, foldForeignServer, type ForeignServers } from '../../src/state/foreign-servers.js';
import { ClientRegistry } from '../../src/state/registry.js';

const SITE = '10.77.0.2';
const mac = (n: number) => `52:54:00:00:00:${n.toString(16).padStart(2, '0')}` as Mac;

function reply(time: number, client: Mac, fields: Partial<ForeignDhcpReplyEvent> = {}): ForeignDhcpReplyEvent {
  return { kind: 'dhcp.foreign-reply', time, source: 'dhcp4', mac: client, server: SITE, messageType: 'OFFER', xid: time, peer: `${SITE}:67`, offered: `10.77.0.${100 + time}`, ...fields };
}

const fold = (events: readonly PxedeckEvent[], limit?: number): ForeignServers => events.reduce<ForeignServers>((servers, event) => foldForeignServer(servers, event, limit), new Map());

describe('foldForeignServer', () => {
  it('keeps, per server, when it was last heard, its latest offer, and what it offered to which MAC', () => {
    const servers = fold([reply(1, mac(1)), reply(2, mac(2), { bootFile: 'undionly.kpxe', nextServer: '10.77.0.3' }), reply(3, mac(1), { messageType: 'ACK', offered: '10.77.0.101' })]);
    expect(servers.get(SITE)).toEqual({
      server: SITE,
      lastSeen: 3,
      offered: '10.77.0.101',
      bootFile: 'undionly.kpxe',
      nextServer: '10.77.0.3',
      offers: [
        { mac: mac(2), messageType: 'OFFER', at: 2, offered: '10.77.0.102', bootFile: 'undionly.kpxe', nextServer: '10.77.0.3' },
        { mac: mac(1), messageType: 'ACK', at: 3, offered: '10.77.0.101' },
      ],
    });
  });

  it('keeps the latest machines only, one entry each', () => {
    const servers = fold(Array.from({ length: 10 }, (_, index) => reply(index + 1, mac(index % 6))), 4);
    expect(servers.get(SITE)!.offers.map((offer) => offer.mac)).toEqual([mac(0), mac(1), mac(2), mac(3)]);
    expect(servers.get(SITE)!.offers.at(-1)!.at).toBe(10);
  });

  it('folds the probe and REQUEST sightings in too, without losing what an earlier reply said', () => {
    const servers = fold([
      reply(5, mac(1), { bootFile: 'pxelinux.0' }),
      { kind: 'dhcp.foreign-server', time: 6, source: 'dhcp4', server: SITE, mac: mac(1) },
      { kind: 'dhcp.foreign-server', time: 7, source: 'dhcp4', server: '10.77.0.9', offered: '10.77.0.77' },
    ]);
    expect(servers.get(SITE)).toMatchObject({ lastSeen: 6, offered: '10.77.0.105', bootFile: 'pxelinux.0', offers: [{ mac: mac(1) }] });
    expect(servers.get('10.77.0.9')).toEqual({ server: '10.77.0.9', lastSeen: 7, offered: '10.77.0.77', offers: [] });
  });

  it('keeps the servers heard most recently when replies come from more addresses than a segment has servers', () => {
    const spoofed = Array.from({ length: FOREIGN_SERVER_LIMIT + 10 }, (_, index) => reply(index + 1, mac(1), { server: `10.77.1.${index}` }));
    const servers = fold([reply(0, mac(2)), ...spoofed, reply(1000, mac(2))]);
    expect(servers.size).toBe(FOREIGN_SERVER_LIMIT);
    expect(servers.has(SITE)).toBe(true);
    expect(servers.has('10.77.1.0')).toBe(false);
    expect(servers.has(`10.77.1.${FOREIGN_SERVER_LIMIT + 9}`)).toBe(true);
  });

  it('returns the very same map for any other event', () => {
    const servers = fold([reply(1, mac(1))]);
    expect(foldForeignServer(servers, { kind: 'notice', time: 2, source: 'system', level: 'info', message: 'x' })).toBe(servers);
  });
});

describe('registry with overheard replies', () => {
  it("lists the server in the snapshot and puts the reply on that machine's timeline; an ACK gives it its address", () => {
    const registry = new ClientRegistry();
    const before = registry.getSnapshot();
    registry.apply(reply(1, mac(1)));
    const snapshot = registry.getSnapshot();
    expect(snapshot).not.toBe(before);
    expect(snapshot.foreignServers.get(SITE)).toMatchObject({ offered: '10.77.0.101', offers: [{ mac: mac(1), messageType: 'OFFER' }] });
    expect(registry.get(mac(1))!.timeline.slice()).toEqual([expect.objectContaining({ kind: 'dhcp.foreign-reply', server: SITE })]);
    expect(registry.get(mac(1))!.ip).toBeUndefined();
    registry.apply(reply(2, mac(1), { messageType: 'ACK', offered: '10.77.0.101', ip: '10.77.0.101' }));
    expect(registry.get(mac(1))!.ip).toBe('10.77.0.101');
    expect(registry.macForIp('10.77.0.101')).toBe(mac(1));
  });
});
