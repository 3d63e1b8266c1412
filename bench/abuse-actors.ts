/**
 * The actors of `npm run bench:abuse`, run inside the bench's namespaces (`ip netns exec NS node --import tsx
 * bench/abuse-actors.ts ROLE JSON`): the attacker's floods and the legitimate client's probes. Each prints one
 * JSON result line and exits; every loop is bounded by a count and a deadline.
 *
 *   flood-dhcp     {kind: discover|request|decline, count, rate, device, server, pool: [first, size]}
 *   flood-tftp     {server, count, file, holdMs}           unacknowledged read requests from one address
 *   flood-syslog   {server, sources: [address…], rate, seconds}
 *   flood-http     {server, port, sources: [address…], perSource, seconds}   slow headers, reconnecting
 *   probe-dhcp     {device, attempts, intervalMs, timeoutMs}   a new machine's DISCOVER → OFFER → REQUEST → ACK
 *   probe-syslog   {server, attempts, intervalMs, timeoutMs, eventsFile}   a known machine's line, until pxedeck prints it
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { openSync, readSync, closeSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { MessageType, Option } from '../src/protocol/dhcp4/constants.js';
import { decode, type DhcpPacket } from '../src/protocol/dhcp4/packet.js';
import { encode } from '../src/protocol/dhcp4/encode.js';
import { addressToBytes } from '../src/protocol/dhcp4/ipv4-address.js';
import { openDeviceUdpSocket } from '../src/servers/net/device-socket.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

function dhcpPacket(type: number, mac: Buffer, xid: number, extra: ReadonlyArray<readonly [number, Buffer]> = []): Buffer {
  const chaddr = Buffer.alloc(16);
  mac.copy(chaddr);
  const packet: DhcpPacket = {
    op: 1, htype: 1, hlen: 6, hops: 0, xid, secs: 0, flags: 0x8000,
    ciaddr: '0.0.0.0', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr: '0.0.0.0',
    chaddr, sname: '', file: '',
    options: new Map<number, Buffer>([
      [Option.MESSAGE_TYPE, Buffer.from([type])],
      [Option.CLIENT_ID, Buffer.concat([Buffer.from([1]), mac])],
      ...extra,
      [Option.PARAMETER_REQUEST_LIST, Buffer.from([1, 3, 6, 15, 51, 54])],
    ]),
  };
  return encode(packet);
}

/** A locally administered MAC nobody has: 02:… then random bytes. */
const randomMac = () => Buffer.concat([Buffer.from([0x02]), randomBytes(5)]);

function addressAt(first: string, index: number): string {
  const base = addressToBytes(first).readUInt32BE(0) + index;
  return [base >>> 24, (base >>> 16) & 255, (base >>> 8) & 255, base & 255].join('.');
}

/** Calls `send(i)` `count` times at `rate` a second (in 10 ms ticks), never past `deadline`; resolves with how many went. */
async function paced(count: number, rate: number, deadline: number, send: (index: number) => void): Promise<number> {
  let sent = 0;
  const started = Date.now();
  while (sent < count && Date.now() < deadline) {
    const due = Math.min(count, Math.floor(((Date.now() - started) / 1000) * rate) + 1);
    while (sent < due) send(sent++);
    await sleep(10);
  }
  return sent;
}

async function floodDhcp(o: { kind: 'discover' | 'request' | 'decline'; count: number; rate: number; device: string; server: string; pool: [string, number] }) {
  const socket = await openDeviceUdpSocket({ device: o.device, port: 68 });
  socket.on('message', () => {});
  const type = { discover: MessageType.DISCOVER, request: MessageType.REQUEST, decline: MessageType.DECLINE }[o.kind];
  const deadline = Date.now() + (o.count / o.rate) * 1000 + 30_000;
  const sent = await paced(o.count, o.rate, deadline, (index) => {
    // Requests and declines name pool addresses in turn; declines then also off-subnet ones.
    const address = o.kind === 'decline' && index % 2 === 1 ? `192.168.${(index >>> 8) & 255}.${index & 255}` : addressAt(o.pool[0], index % o.pool[1]);
    const extra: Array<readonly [number, Buffer]> = o.kind === 'discover' ? [] : [[Option.REQUESTED_IP, addressToBytes(address)], [Option.SERVER_ID, addressToBytes(o.server)]];
    socket.send(dhcpPacket(type, randomMac(), randomBytes(4).readUInt32BE(0), extra), 67, '255.255.255.255');
  });
  await sleep(200);
  socket.close();
  print({ sent });
}

async function floodTftp(o: { server: string; count: number; file: string; holdMs: number }) {
  const request = Buffer.concat([Buffer.from([0, 1]), Buffer.from(`${o.file}\0octet\0blksize\x001432\0`, 'latin1')]);
  const sockets: UdpSocket[] = [];
  for (let index = 0; index < o.count; index += 1) {
    const socket = createSocket('udp4');
    socket.on('message', () => {});
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.bind(0, resolve));
    socket.send(request, 69, o.server);
    sockets.push(socket);
  }
  await sleep(o.holdMs);
  for (const socket of sockets) socket.close();
  print({ sent: o.count });
}

async function floodSyslog(o: { server: string; sources: string[]; rate: number; seconds: number }) {
  const sockets: UdpSocket[] = [];
  for (const address of o.sources) {
    const socket = createSocket('udp4');
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.bind(0, address, resolve));
    sockets.push(socket);
  }
  const count = o.rate * o.seconds;
  const sent = await paced(count, o.rate, Date.now() + o.seconds * 1000 + 5000, (index) => {
    sockets[index % sockets.length]!.send(`<13>flood: line ${index} ${'x'.repeat(100)}`, 514, o.server);
  });
  await sleep(200);
  for (const socket of sockets) socket.close();
  print({ sent });
}

async function floodHttp(o: { server: string; port: number; sources: string[]; perSource: number; seconds: number }) {
  const deadline = Date.now() + o.seconds * 1000;
  let opened = 0;
  let closedByServer = 0;
  let open = 0;
  let peak = 0;
  const all = new Set<Socket>();
  const start = (source: string): void => {
    if (Date.now() >= deadline) return;
    const socket = connect({ host: o.server, port: o.port, localAddress: source });
    all.add(socket);
    let counted = false;
    socket.on('connect', () => {
      opened += 1;
      open += 1;
      counted = true;
      peak = Math.max(peak, open);
      // Headers that never end: one more byte every few seconds.
      socket.write(`GET /files/probe.bin HTTP/1.1\r\nHost: ${o.server}\r\n`);
      const trickle = setInterval(() => socket.writable && socket.write('X-a: b\r\n'), 3000);
      socket.once('close', () => clearInterval(trickle));
    });
    socket.on('error', () => {});
    socket.on('data', () => {});
    socket.once('close', () => {
      all.delete(socket);
      if (counted) open -= 1;
      closedByServer += 1;
      // A slowloris client comes back, bounded by the deadline (half a second between tries).
      setTimeout(() => start(source), 500);
    });
  };
  for (const source of o.sources) for (let index = 0; index < o.perSource; index += 1) start(source);
  await sleep(o.seconds * 1000);
  for (const socket of all) socket.destroy();
  print({ opened, closedByServer, peakOpen: peak });
}

async function probeDhcp(o: { device: string; attempts: number; intervalMs: number; timeoutMs: number }) {
  const socket = await openDeviceUdpSocket({ device: o.device, port: 68 });
  const waiting = new Map<number, (packet: DhcpPacket) => void>();
  socket.on('message', (bytes) => {
    try {
      const packet = decode(bytes);
      waiting.get(packet.xid)?.(packet);
    } catch {
      // Not for us.
    }
  });
  const answer = (xid: number, send: Buffer): Promise<DhcpPacket | undefined> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => (waiting.delete(xid), resolve(undefined)), o.timeoutMs);
      waiting.set(xid, (packet) => (clearTimeout(timer), waiting.delete(xid), resolve(packet)));
      socket.send(send, 67, '255.255.255.255');
    });
  const results = [];
  for (let attempt = 0; attempt < o.attempts; attempt += 1) {
    const mac = randomMac();
    const xid = randomBytes(4).readUInt32BE(0);
    const started = performance.now();
    const offer = await answer(xid, dhcpPacket(MessageType.DISCOVER, mac, xid));
    const offerMs = performance.now() - started;
    if (!offer || offer.options.get(Option.MESSAGE_TYPE)?.[0] !== MessageType.OFFER) {
      results.push({ ok: false, why: offer ? 'answered without an OFFER' : `no OFFER in ${o.timeoutMs} ms` });
    } else {
      const requestedAt = performance.now();
      const ack = await answer(xid, dhcpPacket(MessageType.REQUEST, mac, xid, [[Option.REQUESTED_IP, addressToBytes(offer.yiaddr)], [Option.SERVER_ID, offer.options.get(Option.SERVER_ID)!]]));
      const type = ack?.options.get(Option.MESSAGE_TYPE)?.[0];
      results.push(type === MessageType.ACK ? { ok: true, offerMs, ackMs: performance.now() - requestedAt } : { ok: false, why: type === MessageType.NAK ? 'NAK' : `OFFER, then no ACK in ${o.timeoutMs} ms` });
    }
    await sleep(o.intervalMs);
  }
  socket.close();
  print({ results });
}

async function probeSyslog(o: { server: string; attempts: number; intervalMs: number; timeoutMs: number; eventsFile: string }) {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, resolve));
  const fd = openSync(o.eventsFile, 'r');
  let offset = statSync(o.eventsFile).size;
  let text = '';
  const seen = (marker: string): boolean => {
    const size = statSync(o.eventsFile).size;
    if (size > offset) {
      const chunk = Buffer.alloc(size - offset);
      readSync(fd, chunk, 0, chunk.length, offset);
      offset = size;
      // Only the tail matters: keep what could hold a marker split across reads.
      text = (text + chunk.toString('utf8')).slice(-65_536);
    }
    return text.includes(marker);
  };
  const results = [];
  for (let attempt = 0; attempt < o.attempts; attempt += 1) {
    const marker = `probe-${process.pid}-${attempt}`;
    const started = performance.now();
    socket.send(`<13>probe: ${marker}`, 514, o.server);
    let ok = false;
    while (performance.now() - started < o.timeoutMs) {
      if (seen(marker)) {
        ok = true;
        break;
      }
      await sleep(5);
    }
    results.push(ok ? { ok: true, ms: performance.now() - started } : { ok: false, why: `not in pxedeck's events after ${o.timeoutMs} ms` });
    await sleep(o.intervalMs);
  }
  closeSync(fd);
  socket.close();
  print({ results });
}

const roles: Record<string, (options: never) => Promise<void>> = {
  'flood-dhcp': floodDhcp,
  'flood-tftp': floodTftp,
  'flood-syslog': floodSyslog,
  'flood-http': floodHttp,
  'probe-dhcp': probeDhcp,
  'probe-syslog': probeSyslog,
};

const [role, json] = process.argv.slice(2);
const run = role ? roles[role] : undefined;
if (!run || !json) {
  process.stderr.write(`usage: abuse-actors.ts ${Object.keys(roles).join('|')} JSON\n`);
  process.exit(2);
}
await run(JSON.parse(json) as never);
process.exit(0);
