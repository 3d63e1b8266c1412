import { execFile, spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { parseMac } from '../../../src/protocol/mac.js';
import type { PxedeckEvent, SyslogDroppedEvent, SyslogLineEvent } from '../../../src/servers/events.js';
import { createSyslogServer, type SyslogServer, type SyslogServerOptions } from '../../../src/servers/syslog/server.js';

const run = promisify(execFile);
const MAC = parseMac('52:54:00:12:34:56')!;
const hasTool = (path: string) => existsSync(path);

let servers: SyslogServer[] = [];
let sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets) socket.close();
  sockets = [];
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
});

async function start(extra: Partial<SyslogServerOptions> = {}): Promise<{ server: SyslogServer; port: number; events: PxedeckEvent[] }> {
  const events: PxedeckEvent[] = [];
  const server = await createSyslogServer({
    bind: { address: '127.0.0.1', port: 0 },
    emit: (event) => events.push(event),
    macForIp: (ip) => (ip === '127.0.0.1' ? MAC : undefined),
    ...extra,
  });
  servers.push(server);
  return { server, port: server.addresses[0]!.port, events };
}

async function waitFor<T>(read: () => T | undefined, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting for events');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const linesOf = (events: readonly PxedeckEvent[]) => events.filter((event): event is SyslogLineEvent => event.kind === 'syslog.line');

async function sender(address = '127.0.0.1'): Promise<Socket> {
  const socket = createSocket('udp4');
  sockets.push(socket);
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  return socket;
}

function send(socket: Socket, port: number, datagram: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => socket.send(datagram, port, '127.0.0.1', (error) => (error ? reject(error) : resolve())));
}

/** Ten datagrams from each socket, a socket at a time, letting the server read them (a loopback burst overflows its buffer). */
async function sendEach(server: SyslogServer, sockets: readonly Socket[], port: number, text: (line: number) => string): Promise<void> {
  for (const socket of sockets) {
    const expected = server.stats.datagrams + 10;
    await Promise.all(Array.from({ length: 10 }, (_, line) => send(socket, port, text(line))));
    await waitFor(() => (server.stats.datagrams >= expected ? true : undefined));
  }
}

describe('syslog server', () => {
  it('says where it listens and closes', async () => {
    const { server, port, events } = await start();
    expect(port).toBeGreaterThan(0);
    expect(events[0]).toMatchObject({ kind: 'server.listening', server: 'syslog', address: `127.0.0.1:${port}` });
    await server.close();
    expect(events.at(-1)).toMatchObject({ kind: 'server.closed', server: 'syslog' });
  });

  it.skipIf(!hasTool('/usr/bin/logger'))('util-linux logger, RFC 3164 and RFC 5424, becomes one event per line with the MAC', async () => {
    const { port, events } = await start();
    const base = ['--server', '127.0.0.1', '--port', String(port), '--udp'];
    await run('logger', [...base, '--rfc3164', '-t', 'anaconda', '-p', 'local3.warning', 'disk sda is small']);
    await run('logger', [...base, '--rfc5424', '-t', 'd-i', '-p', 'user.err', '--msgid', 'ID47', '--sd-id', 'ex@32473', '--sd-param', 'a="b"', 'partman failed']);
    await run('logger', [...base, '--rfc3164', '-t', 'x', 'first\nsecond']);
    const lines = await waitFor(() => (linesOf(events).length >= 4 ? linesOf(events) : undefined));
    expect(lines.map(({ ip, mac, facility, severity, app, message }) => ({ ip, mac, facility, severity, app, message }))).toEqual([
      { ip: '127.0.0.1', mac: MAC, facility: 'local3', severity: 'warning', app: 'anaconda', message: 'disk sda is small' },
      { ip: '127.0.0.1', mac: MAC, facility: 'user', severity: 'err', app: 'd-i', message: 'partman failed' },
      { ip: '127.0.0.1', mac: MAC, facility: 'user', severity: 'notice', app: 'x', message: 'first' },
      { ip: '127.0.0.1', mac: MAC, facility: 'user', severity: 'notice', app: 'x', message: 'second' },
    ]);
    expect(lines[0]!.hostname).toBeTruthy();
    expect(lines[0]!.peer).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  // busybox's `logger` only writes to the local /dev/log; what reaches the network in a busybox initrd
  // (debian-installer's log_host) is `syslogd -R host:port` forwarding those lines. A private mount
  // namespace gives the test its own /dev/log, a PID namespace ends syslogd with the shell.
  it.skipIf(process.getuid?.() !== 0 || !hasTool('/usr/bin/busybox') || !hasTool('/usr/bin/unshare'))(
    'busybox logger through busybox syslogd -R (no hostname in the line)',
    async () => {
      const { port, events } = await start();
      const script = [
        // Background jobs read /dev/null, which the fresh /dev lacks.
        'mount -t tmpfs tmpfs /dev && mknod -m 666 /dev/null c 1 3',
        `busybox syslogd -n -R 127.0.0.1:${port} & pid=$!`,
        'for i in 1 2 3 4 5 6 7 8 9 10; do [ -S /dev/log ] && break; sleep 0.05; done',
        "busybox logger -t netcfg -p daemon.err 'DHCP timed out on enp0s3'",
        "echo 'from stdin' | busybox logger -t main-menu",
        'sleep 0.2; kill $pid; wait $pid; exit 0',
      ].join('\n');
      const child = spawn('unshare', ['--mount', '--pid', '--fork', '--kill-child', 'sh', '-c', script], { stdio: 'ignore' });
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect(code).toBe(0);
      const lines = await waitFor(() => (linesOf(events).length >= 2 ? linesOf(events) : undefined));
      expect(lines.map(({ severity, facility, app, hostname, message }) => ({ severity, facility, app, hostname, message }))).toEqual([
        { severity: 'err', facility: 'daemon', app: 'netcfg', hostname: undefined, message: 'DHCP timed out on enp0s3' },
        { severity: 'notice', facility: 'user', app: 'main-menu', hostname: undefined, message: 'from stdin' },
      ]);
    },
  );

  it('iPXE lines (option 7) as iPXE formats them', async () => {
    const { port, events } = await start();
    const socket = await sender();
    await send(socket, port, '<6>ipxe: net0: 52:54:00:12:34:56 using virtio-net on 0000:00:03.0 (Ethernet) [open]');
    await send(socket, port, '<3>node07 ipxe: Connection timed out (https://ipxe.org/4c0a6035)');
    const lines = await waitFor(() => (linesOf(events).length >= 2 ? linesOf(events) : undefined));
    expect(lines.map(({ severity, facility, app, hostname }) => [severity, facility, app, hostname])).toEqual([
      ['info', 'kern', 'ipxe', undefined],
      ['err', 'kern', 'ipxe', 'node07'],
    ]);
  });

  it('malformed datagrams are dropped and counted, and the server keeps serving', async () => {
    const { server, port, events } = await start();
    const socket = await sender();
    const table: readonly [string | Buffer, RegExp][] = [
      [Buffer.alloc(0), /empty datagram/],
      ['plain text', /no PRI/],
      ['<200>x', /PRI 200 is out of range/],
      ['<13>1 - host', /APP-NAME missing/],
      [Buffer.from([0x3c, 0x31, 0x33, 0x3e, 0x31, 0x20, 0xff, 0xfe]), /TIMESTAMP/],
    ];
    for (const [datagram] of table) await send(socket, port, datagram);
    await send(socket, port, '<13>still: here');
    await waitFor(() => (linesOf(events).length === 1 ? true : undefined));
    const malformed = events.filter((event) => event.kind === 'packet.malformed');
    expect(malformed).toHaveLength(table.length);
    malformed.forEach((event, index) => {
      expect(event).toMatchObject({ source: 'syslog', ip: '127.0.0.1', mac: MAC, count: index + 1 });
      if (event.kind === 'packet.malformed') expect(event.error).toMatch(table[index]![1]);
    });
    expect(server.stats).toMatchObject({ malformed: table.length, lines: 1, datagrams: table.length + 1 });
  });

  it('bounds lines per source address and reports the rest once per window', async () => {
    const { server, port, events } = await start({ maxLines: 200, windowMs: 1000 });
    const flood = await sender('127.0.0.1');
    const other = await sender('127.0.0.2');
    const started = Date.now();
    // 250 datagrams of three lines each, 750 lines inside one window; the 67th datagram straddles the limit.
    await Promise.all(Array.from({ length: 250 }, (_, index) => send(flood, port, `<13>flood: ${index}a\n${index}b\n${index}c`)));
    await send(other, port, '<13>quiet: hello');
    const sentIn = Date.now() - started;
    const dropped = await waitFor(() => events.find((event): event is SyslogDroppedEvent => event.kind === 'syslog.dropped'), 3000);
    const fromFlood = linesOf(events).filter((event) => event.ip === '127.0.0.1');
    expect(sentIn).toBeLessThan(900);
    expect(fromFlood).toHaveLength(200);
    expect(fromFlood.at(-1)!.message).toBe('66b');
    expect(dropped).toMatchObject({ ip: '127.0.0.1', mac: MAC, dropped: 550, limit: 200, windowMs: 1000 });
    expect(dropped.time - fromFlood[0]!.time).toBeGreaterThanOrEqual(990);
    expect(linesOf(events).filter((event) => event.ip === '127.0.0.2').map((event) => event.message)).toEqual(['hello']);
    expect(events.filter((event) => event.kind === 'syslog.dropped')).toHaveLength(1);
    expect(server.stats).toMatchObject({ lines: 201, dropped: 550 });

    // The next window has a fresh budget.
    await send(flood, port, '<13>flood: again');
    await waitFor(() => linesOf(events).find((event) => event.message === 'again'));
  });

  it('bounds lines from addresses of no known machine together, so spoofed sources cannot crowd out a known one', async () => {
    const { server, port, events } = await start({ maxTotalLines: 300, maxUnknownLines: 100, windowMs: 60_000 });
    // 60 made-up sources on loopback, 10 lines each: 600 lines, none from a machine pxedeck knows.
    const spoofed = await Promise.all(Array.from({ length: 60 }, (_, index) => sender(`127.0.1.${index + 1}`)));
    await sendEach(server, spoofed, port, (line) => `<13>spoof: ${line}`);
    const known = await sender('127.0.0.1');
    await send(known, port, '<13>installer: still heard');
    await waitFor(() => linesOf(events).find((event) => event.message === 'still heard'));
    expect(linesOf(events).filter((event) => event.ip !== '127.0.0.1')).toHaveLength(100);
    await server.close();
    const dropped = events.filter((event): event is SyslogDroppedEvent => event.kind === 'syslog.dropped');
    expect(dropped).toEqual([expect.objectContaining({ budget: 'unknown', dropped: 500, limit: 100, windowMs: 60_000 })]);
    expect(dropped[0]).not.toHaveProperty('ip');
  });

  it('bounds lines from all sources together, reported once for the window', async () => {
    const { server, port, events } = await start({ maxTotalLines: 150, windowMs: 60_000, macForIp: () => MAC });
    const sources = await Promise.all(Array.from({ length: 20 }, (_, index) => sender(`127.0.2.${index + 1}`)));
    await sendEach(server, sources, port, (line) => `<13>known: ${line}`);
    expect(linesOf(events)).toHaveLength(150);
    await server.close();
    expect(events.filter((event) => event.kind === 'syslog.dropped')).toEqual([expect.objectContaining({ budget: 'all', dropped: 50, limit: 150 })]);
    expect(server.stats).toMatchObject({ lines: 150, dropped: 50 });
  });

  it('close() reports drops still pending in an open window', async () => {
    const { server, port, events } = await start({ maxLines: 2, windowMs: 60_000 });
    const socket = await sender();
    for (let index = 0; index < 5; index += 1) await send(socket, port, `<13>n: ${index}`);
    await waitFor(() => (server.stats.datagrams === 5 ? true : undefined));
    expect(events.some((event) => event.kind === 'syslog.dropped')).toBe(false);
    await server.close();
    expect(events.filter((event) => event.kind === 'syslog.dropped')).toMatchObject([{ dropped: 3, limit: 2 }]);
    expect(events.at(-1)!.kind).toBe('server.closed');
  });

  it('listens on several addresses, IPv6 included, and stops on abort', async () => {
    const controller = new AbortController();
    const events: PxedeckEvent[] = [];
    const server = await createSyslogServer({
      bind: [
        { address: '127.0.0.1', port: 0 },
        { address: '::1', port: 0 },
      ],
      emit: (event) => events.push(event),
      signal: controller.signal,
    });
    servers.push(server);
    const v6 = createSocket('udp6');
    sockets.push(v6);
    await new Promise<void>((resolve, reject) => v6.send('<13>v6: over ipv6', server.addresses[1]!.port, '::1', (error) => (error ? reject(error) : resolve())));
    const line = await waitFor(() => linesOf(events)[0]);
    expect(line).toMatchObject({ ip: '::1', message: 'over ipv6' });
    expect(line.mac).toBeUndefined();
    controller.abort();
    await waitFor(() => events.find((event) => event.kind === 'server.closed'));
  });

  it('a port in use is an error naming the port', async () => {
    const { port } = await start();
    await expect(createSyslogServer({ bind: { address: '127.0.0.1', port }, emit: () => {} })).rejects.toThrow(new RegExp(String(port)));
  });
});
