/**
 * Loopback only: sockets pinned to `lo` on ephemeral ports. The two-interface behaviour is proven in
 * device-socket.netns.test.ts.
 */
import dgram from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { openDeviceUdpSocket, openUdpSocket } from '../../../src/servers/net/device-socket.js';
import { explainSocketError, SocketOpenError, type SocketOpenContext } from '../../../src/servers/net/socket-open-error.js';

const opened: dgram.Socket[] = [];
afterEach(() => {
  for (const socket of opened.splice(0)) socket.close();
});

async function keep<T extends dgram.Socket>(socket: Promise<T>): Promise<T> {
  const value = await socket;
  opened.push(value);
  return value;
}

async function rejection(promise: Promise<unknown>): Promise<SocketOpenError> {
  try {
    const socket = await promise;
    opened.push(socket as dgram.Socket);
  } catch (error) {
    if (error instanceof SocketOpenError) return error;
    throw error;
  }
  throw new Error('expected a SocketOpenError');
}

function nextMessage(socket: dgram.Socket): Promise<{ text: string; from: string }> {
  return new Promise((resolve) => socket.once('message', (data, from) => resolve({ text: data.toString(), from: from.address })));
}

const openFds = () => readdirSync('/proc/self/fd').length;
const isLinux = process.platform === 'linux';

describe.skipIf(!isLinux)('openDeviceUdpSocket on loopback', () => {
  it('gives a working dgram socket pinned to lo (IPv4 and IPv6)', async () => {
    const server = await keep(openDeviceUdpSocket({ device: 'lo', port: 0, address: '127.0.0.1' }));
    const client = await keep(openUdpSocket({ address: '127.0.0.1', port: 0 }));
    const received = nextMessage(server);
    client.send('hello', server.address().port, '127.0.0.1');
    expect(await received).toEqual({ text: 'hello', from: '127.0.0.1' });

    const server6 = await keep(openDeviceUdpSocket({ device: 'lo', port: 0, family: 6 }));
    expect(server6.address()).toMatchObject({ family: 'IPv6', address: '::' });
    const client6 = await keep(openUdpSocket({ address: '::1', port: 0 }));
    const received6 = nextMessage(server6);
    client6.send('hello6', server6.address().port, '::1');
    expect(await received6).toEqual({ text: 'hello6', from: '::1' });
  });

  it('takes the receive buffer it asks for (SO_RCVBUFFORCE as root, past net.core.rmem_max), 208 KiB by default', async () => {
    const plain = await keep(openDeviceUdpSocket({ device: 'lo', port: 0, address: '127.0.0.1' }));
    const large = await keep(openDeviceUdpSocket({ device: 'lo', port: 0, address: '127.0.0.1', receiveBufferBytes: 8 * 1024 * 1024 }));
    expect(plain.getRecvBufferSize()).toBeLessThan(1024 * 1024);
    // The kernel doubles the value for its bookkeeping; with CAP_NET_ADMIN (bit 12) rmem_max does not apply.
    const capabilities = BigInt(`0x${/^CapEff:\s*([0-9a-f]+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0'}`);
    if ((capabilities >> 12n) & 1n) expect(large.getRecvBufferSize()).toBe(16 * 1024 * 1024);
    else expect(large.getRecvBufferSize()).toBeGreaterThanOrEqual(plain.getRecvBufferSize());
  });

  it('keeps the port its own: a later bind with SO_REUSEADDR (as dnsmasq binds :67) fails, unless we asked to share', async () => {
    const ours = await keep(openDeviceUdpSocket({ device: 'lo', port: 0, address: '127.0.0.1' }));
    const port = ours.address().port;
    const intruder = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    const outcome = await new Promise<string>((resolve) => {
      intruder.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? String(error)));
      intruder.bind({ address: '127.0.0.1', port }, () => resolve('bound'));
    });
    intruder.close();
    expect(outcome).toBe('EADDRINUSE');

    const shared = await keep(openDeviceUdpSocket({ device: 'lo', port: 0, address: '127.0.0.1', reuseAddress: true }));
    const neighbour = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    await new Promise<void>((resolve, reject) => {
      neighbour.once('error', reject);
      neighbour.bind({ address: '127.0.0.1', port: shared.address().port }, () => resolve());
    });
    neighbour.close();
  });

  it('sets IPV6_V6ONLY: an IPv4 socket can take the same port on the same device', async () => {
    const v6 = await keep(openDeviceUdpSocket({ device: 'lo', port: 0, address: '::' }));
    const v4 = await keep(openDeviceUdpSocket({ device: 'lo', port: v6.address().port, address: '127.0.0.1' }));
    expect(v4.address().port).toBe(v6.address().port);
  });

  it('names the holder on EADDRINUSE and closes its own fd on every failure', async () => {
    const holder = await keep(openDeviceUdpSocket({ device: 'lo', port: 0, address: '127.0.0.1' }));
    const port = holder.address().port;
    const before = openFds();
    for (let i = 0; i < 20; i++) {
      const error = await rejection(openDeviceUdpSocket({ device: 'lo', port, address: '127.0.0.1' }));
      expect(error.code).toBe('EADDRINUSE');
      expect(error.context).toMatchObject({ syscall: 'bind', device: 'lo', port });
      expect(error.holders.map((entry) => entry.pid)).toEqual([process.pid]);
      expect(error.message).toContain(`by node (pid ${process.pid}: `);
      expect(error.message).toContain('Stop that process, or give pxedeck another port');
      await rejection(openDeviceUdpSocket({ device: 'pxdnone0', port: 0 }));
    }
    expect(openFds()).toBe(before);

    const plain = await rejection(openUdpSocket({ address: '127.0.0.1', port }));
    expect(plain.code).toBe('EADDRINUSE');
    expect(plain.holders.map((entry) => entry.pid)).toEqual([process.pid]);
  });

  it('names the missing device on ENODEV', async () => {
    const error = await rejection(openDeviceUdpSocket({ device: 'pxdnone0', port: 0 }));
    expect(error.code).toBe('ENODEV');
    expect(error.context.syscall).toBe('setsockopt(SO_BINDTODEVICE)');
    expect(error.message).toMatch(/no network interface named "pxdnone0".*This machine has: .*\blo\b/);
  });

  it('rejects bad arguments before touching the system', async () => {
    await expect(openDeviceUdpSocket({ device: 'a-name-longer-than-15', port: 67 })).rejects.toThrow(/not an interface name/);
    await expect(openDeviceUdpSocket({ device: 'eth0/x', port: 67 })).rejects.toThrow(/not an interface name/);
    await expect(openDeviceUdpSocket({ device: 'lo', port: 70000 })).rejects.toThrow(/not a UDP port/);
    await expect(openDeviceUdpSocket({ device: 'lo', port: 0, address: '::1', family: 4 })).rejects.toThrow(/not an IPv4/);
    await expect(openUdpSocket({ port: 0, address: 'localhost' })).rejects.toThrow(/not an IPv4/);
  });
});

describe('explainSocketError', () => {
  const dhcp: SocketOpenContext = { syscall: 'bind', address: '0.0.0.0', port: 67, family: 4, device: 'enp3s0' };

  it('says how to get a privileged port', () => {
    for (const code of ['EACCES', 'EPERM']) {
      const message = explainSocketError(code, dhcp);
      expect(message).toContain('UDP 0.0.0.0:67 on enp3s0');
      expect(message).toContain('need root or CAP_NET_BIND_SERVICE');
    }
    expect(explainSocketError('EPERM', { ...dhcp, syscall: 'setsockopt(SO_BINDTODEVICE)' })).toContain('CAP_NET_RAW');
  });

  it('gives the way out when the port is taken, even when the holder is unknown', () => {
    expect(explainSocketError('EADDRINUSE', dhcp)).toBe(
      'Cannot listen on UDP 0.0.0.0:67 on enp3s0: the port is already in use by another process (we could not see which). ' +
        'Stop dnsmasq / NetworkManager shared mode on this interface, or run pxedeck on another interface.',
    );
  });

  it('fits the advice to the port: TFTP and syslog are not DHCP', () => {
    expect(explainSocketError('EADDRINUSE', { ...dhcp, port: 69 })).toContain('tftpd-hpa, dnsmasq with enable-tftp), or give pxedeck another port with --tftp-port.');
    const syslog = explainSocketError('EADDRINUSE', { ...dhcp, port: 514 });
    expect(syslog).toContain('rsyslog or syslog-ng');
    expect(syslog).toContain('--syslog-port');
    expect(syslog).not.toContain('dnsmasq');
    expect(explainSocketError('EADDRINUSE', { ...dhcp, port: 4011 })).toContain('Stop dnsmasq / NetworkManager shared mode');
  });

  it('tells TCP from UDP: HTTP on 80 is usually a web server, and the fix is the setting that moves the port', () => {
    const http: SocketOpenContext = { syscall: 'listen', address: '0.0.0.0', port: 80, family: 4, protocol: 'tcp', portSetting: '--http-port' };
    const nginx = { family: 4, localAddress: '0.0.0.0', localPort: 80, inode: 5, uid: 0, pid: 900, command: 'nginx', cmdline: 'nginx: master process /usr/sbin/nginx' } as const;
    expect(explainSocketError('EADDRINUSE', http, [nginx])).toBe(
      'Cannot listen on TCP 0.0.0.0:80: the port is already in use by nginx (pid 900: nginx: master process /usr/sbin/nginx) on 0.0.0.0:80. ' +
        'A web server (nginx, apache2, lighttpd) usually holds it, or another pxedeck. Stop it, or give pxedeck another port with --http-port.',
    );
    const control = explainSocketError('EADDRINUSE', { ...http, address: '127.0.0.1', port: 7411, portSetting: 'controlPort in settings.json' });
    expect(control).toContain('TCP 127.0.0.1:7411');
    expect(control).toContain('Stop it, or give pxedeck another port with controlPort in settings.json.');
    expect(control).not.toContain('dnsmasq');
    expect(control).not.toContain('web server');
    expect(explainSocketError('EACCES', http)).toContain('need root or CAP_NET_BIND_SERVICE');
  });

  it('lists the interfaces that exist on ENODEV, and falls back to the raw code otherwise', () => {
    expect(explainSocketError('ENODEV', dhcp, [], ['lo', 'wlp2s0'])).toContain('"enp3s0" (any more). This machine has: lo, wlp2s0.');
    expect(explainSocketError('EMFILE', { ...dhcp, family: 6, address: '::' })).toBe(
      'Cannot listen on UDP [::]:67 on enp3s0: bind failed with EMFILE.',
    );
  });
});
