import { readFileSync } from 'node:fs';
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { MessageType, Option } from '../../../src/protocol/dhcp4/constants.js';
import { addresses } from '../../../src/protocol/dhcp4/options.js';
import { blankPacket, decode } from '../../../src/protocol/dhcp4/packet.js';
import { encode } from '../../../src/protocol/dhcp4/encode.js';
import type { PxedeckEvent } from '../../../src/servers/events.js';
import { createReplyObserver, explainObserverFailure, OBSERVER_NAME, readForeignReply, startReplyObserver, type ReplyObserver } from '../../../src/servers/dhcp4/reply-observer.js';
import { SocketOpenError } from '../../../src/servers/net/socket-open-error.js';
import { buildRequest } from '../../support/dhcp-client.js';

const fixture = (name: string) => Buffer.from(readFileSync(new URL(`../../fixtures/dhcp4/${name}.hex`, import.meta.url), 'utf8').replace(/\s+/g, ''), 'hex');
const SITE_OFFER = fixture('proxy-bios-ipxe-rom.bios-ipxe-rom.offer-from-site-dnsmasq');
const SITE_ACK = fixture('proxy-uefi-pxe.uefi-ovmf-pxe.ack-from-site-dnsmasq');
/** pxedeck's role in that capture was played by a proxy dnsmasq on 10.77.0.1. */
const OWN_OFFER = fixture('proxy-bios-ipxe-rom.bios-ipxe-rom.offer-from-proxy-dnsmasq');
const SITE = { address: '10.77.0.2', port: 67 };

describe('readForeignReply (captured dnsmasq replies)', () => {
  it("reads the site server's OFFER: server id, offered address, next-server, the client's MAC", () => {
    expect(readForeignReply(decode(SITE_OFFER), SITE, ['10.77.0.1'])).toEqual({
      reply: { mac: '52:54:00:77:00:06', server: '10.77.0.2', messageType: 'OFFER', xid: 1519861781, peer: '10.77.0.2:67', offered: '10.77.0.135', nextServer: '10.77.0.2' },
    });
  });

  it('gives the client its address on an ACK only', () => {
    const read = readForeignReply(decode(SITE_ACK), SITE, ['10.77.0.1']);
    expect(read).toMatchObject({ reply: { messageType: 'ACK', offered: '10.77.0.134', ip: '10.77.0.134', mac: '52:54:00:77:00:05' } });
    expect(readForeignReply(decode(SITE_OFFER), SITE, ['10.77.0.1'])).not.toHaveProperty('reply.ip');
  });

  it("skips our own replies (by server id or by source) and what is not a server's answer", () => {
    expect(readForeignReply(decode(OWN_OFFER), { address: '10.77.0.1', port: 67 }, ['10.77.0.1'])).toEqual({ skip: 'own' });
    expect(readForeignReply(decode(SITE_OFFER), SITE, ['10.77.0.2'])).toEqual({ skip: 'own' });
    const discover = buildRequest({ type: 'DISCOVER', mac: '52:54:00:00:00:09' });
    expect(readForeignReply(discover, SITE, [])).toEqual({ skip: 'not-a-reply' });
  });

  it('reads a boot file and TFTP server from options, or from the BOOTP fields, and a server without option 54 by its source', () => {
    const withOptions = blankPacket({
      op: 2,
      xid: 7,
      yiaddr: '10.77.0.60',
      siaddr: '10.77.0.254',
      chaddr: Buffer.concat([Buffer.from('525400000007', 'hex'), Buffer.alloc(10)]),
      options: new Map([
        [Option.MESSAGE_TYPE, Buffer.from([MessageType.OFFER])],
        [Option.BOOTFILE_NAME, Buffer.from('undionly.kpxe\0')],
        [Option.TFTP_SERVER_NAME, Buffer.from('10.77.0.254')],
      ]),
    });
    expect(readForeignReply(withOptions, { address: '10.77.0.254', port: 67 }, [])).toMatchObject({
      reply: { server: '10.77.0.254', bootFile: 'undionly.kpxe', tftpServer: '10.77.0.254', nextServer: '10.77.0.254', mac: '52:54:00:00:00:07' },
    });
    const bootp = blankPacket({ op: 2, xid: 8, yiaddr: '10.77.0.61', file: 'pxelinux.0', sname: 'boot', chaddr: Buffer.concat([Buffer.from('525400000008', 'hex'), Buffer.alloc(10)]), options: new Map() });
    expect(readForeignReply(bootp, { address: '10.77.0.9', port: 67 }, [])).toMatchObject({ reply: { server: '10.77.0.9', messageType: 'BOOTREPLY', bootFile: 'pxelinux.0', tftpServer: 'boot' } });
  });
});

describe('reply observer over loopback', () => {
  let observer: ReplyObserver | undefined;
  let sender: Socket | undefined;
  afterEach(async () => {
    await observer?.close();
    sender?.close();
    observer = undefined;
    sender = undefined;
  });

  const openLoopback = (port: number): Promise<Socket> => {
    const socket = createSocket('udp4');
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port === 68 ? 0 : port, '127.0.0.1', () => resolve(socket));
    });
  };

  it('reports foreign replies once, skips its own, counts and drops malformed packets, and never sends', async () => {
    const events: PxedeckEvent[] = [];
    observer = await createReplyObserver({ openSocket: openLoopback, ownAddresses: ['10.77.0.1'], interfaceName: 'lo', emit: (event) => events.push(event) });
    sender = await openLoopback(0);
    const sent: Buffer[] = [];
    const sendAll = async (list: Buffer[]) => {
      for (const bytes of list) await new Promise<void>((resolve, reject) => sender!.send(bytes, observer!.port, '127.0.0.1', (error) => (error ? reject(error) : resolve())));
    };
    // Replies from the observer's socket would show up here; it must stay empty.
    sender.on('message', (bytes) => sent.push(bytes));
    const own = decode(OWN_OFFER);
    await sendAll([SITE_OFFER, SITE_OFFER, encode(own), Buffer.from('not dhcp at all'), SITE_ACK]);
    for (let i = 0; i < 100 && observer.stats.received < 5; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));

    expect(observer.stats).toEqual({ received: 5, reported: 2, own: 1, notReplies: 0, repeats: 1, malformed: 1 });
    const replies = events.filter((event) => event.kind === 'dhcp.foreign-reply');
    expect(replies).toEqual([
      expect.objectContaining({ messageType: 'OFFER', server: '10.77.0.2', offered: '10.77.0.135', mac: '52:54:00:77:00:06', interface: 'lo', peer: `127.0.0.1:${sender.address().port}` }),
      expect.objectContaining({ messageType: 'ACK', server: '10.77.0.2', ip: '10.77.0.134', mac: '52:54:00:77:00:05' }),
    ]);
    expect(events).toContainEqual(expect.objectContaining({ kind: 'packet.malformed', count: 1, length: 15 }));
    expect(events[0]).toMatchObject({ kind: 'server.listening', server: OBSERVER_NAME });
    expect(sent).toEqual([]);
  });

  it('closes on abort', async () => {
    const events: PxedeckEvent[] = [];
    const controller = new AbortController();
    observer = await createReplyObserver({ openSocket: openLoopback, ownAddresses: [], emit: (event) => events.push(event), signal: controller.signal });
    controller.abort();
    await observer.close();
    expect(events.map((event) => event.kind)).toEqual(['server.listening', 'server.closed']);
  });
});

describe('when port 68 cannot be bound', () => {
  const inUse = new SocketOpenError('in use', 'EADDRINUSE', { syscall: 'bind', address: '0.0.0.0', port: 68, family: 4, device: 'srv0' }, [
    { family: 4, localAddress: '0.0.0.0', localPort: 68, inode: 1, uid: 0, pid: 4242, command: 'dhclient', cmdline: 'dhclient srv0' },
  ]);

  it('explains who holds it, and that pxedeck serves on', () => {
    const { short, full } = explainObserverFailure(inUse, 68, 'srv0');
    expect(short).toBe('port 68 held without sharing');
    expect(full).toContain("other DHCP servers' offers on srv0 are not visible");
    expect(full).toContain('pid 4242');
    expect(full).toContain('SO_REUSEADDR');
    expect(full).toContain('pxedeck serves as usual');
  });

  it('startReplyObserver returns undefined with a server.error and a warning, instead of throwing', async () => {
    const events: PxedeckEvent[] = [];
    const observer = await startReplyObserver({
      openSocket: () => Promise.reject(inUse),
      ownAddresses: [],
      interfaceName: 'srv0',
      emit: (event) => events.push(event),
    });
    expect(observer).toBeUndefined();
    expect(events).toEqual([
      expect.objectContaining({ kind: 'server.error', server: OBSERVER_NAME, message: 'port 68 held without sharing' }),
      expect.objectContaining({ kind: 'notice', level: 'warning', message: expect.stringContaining('not visible') }),
    ]);
  });
});

it('a reply naming another server by option 54 is reported under that id, whatever its source', () => {
  const packet = decode(SITE_OFFER);
  packet.options.set(Option.SERVER_ID, addresses('10.77.0.250'));
  expect(readForeignReply(packet, SITE, [])).toMatchObject({ reply: { server: '10.77.0.250', peer: '10.77.0.2:67' } });
});
