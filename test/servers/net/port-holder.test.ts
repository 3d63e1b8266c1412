import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { describePortHolders, findPortHolders, parseProcNetSockets } from '../../../src/servers/net/port-holder.js';

describe('parseProcNetSockets', () => {
  it('reads IPv4 lines (addresses in host byte order)', () => {
    const text = [
      '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops',
      '  123: 00000000:0043 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 40123 2 0000000000000000 0',
      ' 1024: 0100007F:1F90 0200000A:0044 01 00000000:00000000 00:00000000 00000000   108        0 555 2 0000000000000000 0',
      'garbage',
      '',
    ].join('\n');
    expect(parseProcNetSockets(text, 4, 'LE')).toEqual([
      { family: 4, localAddress: '0.0.0.0', localPort: 67, remoteAddress: '0.0.0.0', remotePort: 0, state: 7, uid: 0, inode: 40123 },
      { family: 4, localAddress: '127.0.0.1', localPort: 8080, remoteAddress: '10.0.0.2', remotePort: 68, state: 1, uid: 108, inode: 555 },
    ]);
    expect(parseProcNetSockets(text.replace('0100007F', '7F000001'), 4, 'BE')[1]?.localAddress).toBe('127.0.0.1');
  });

  it('reads IPv6 lines: word by word, each in host byte order', () => {
    const text = [
      '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops',
      '   10: 00000000000000000000000000000000:0223 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 777 2 0000000000000000 0',
      '   11: 00000000000000000000000001000000:0044 0000000000000000FFFF00000100007F:0043 07 00000000:00000000 00:00000000 00000000     0        0 778 2 0000000000000000 0',
      '   12: 000077FD000000000000000001000000:0043 000080FE00000000FF00FC00010000FE:0044 07 00000000:00000000 00:00000000 00000000     0        0 779 2 0000000000000000 0',
    ].join('\n');
    const entries = parseProcNetSockets(text, 6, 'LE');
    expect(entries.map((entry) => [entry.localAddress, entry.localPort, entry.remoteAddress])).toEqual([
      ['::', 547, '::'],
      ['::1', 68, '::ffff:127.0.0.1'],
      ['fd77::1', 67, 'fe80::fc:ff:fe00:1'],
    ]);
  });
});

describe('describePortHolders', () => {
  it('names the process, its command line and who started it', () => {
    const text = describePortHolders([
      {
        family: 4,
        localAddress: '0.0.0.0',
        localPort: 67,
        inode: 1,
        uid: 0,
        pid: 812,
        command: 'dnsmasq',
        cmdline: '/usr/sbin/dnsmasq --conf-file=/dev/null --listen-address=10.42.0.1',
        parentPid: 700,
        parentCommand: 'NetworkManager',
      },
    ]);
    expect(text).toBe(
      "dnsmasq (pid 812: /usr/sbin/dnsmasq --conf-file=/dev/null --listen-address=10.42.0.1, started by NetworkManager's shared connection mode) on 0.0.0.0:67",
    );
  });

  it('says so when the process is not visible, and shortens long command lines', () => {
    expect(describePortHolders([{ family: 6, localAddress: '::', localPort: 547, inode: 9, uid: 101 }])).toBe(
      'a socket on [::]:547 (inode 9, uid 101) whose process we cannot see (run as root to see it)',
    );
    const long = describePortHolders([
      { family: 4, localAddress: '0.0.0.0', localPort: 67, inode: 1, uid: 0, pid: 5, command: 'x', cmdline: 'a'.repeat(500) },
    ]);
    expect(long.length).toBeLessThan(250);
    expect(describePortHolders([])).toBe('a process we could not identify');
  });
});

describe('findPortHolders (real processes on loopback)', () => {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill();
  });

  /** A child process that binds UDP on `address`, port 0, and prints the port. */
  async function childHolding(type: 'udp4' | 'udp6', address: string): Promise<{ pid: number; port: number }> {
    const script = `const s = require('node:dgram').createSocket('${type}');
      s.bind(0, '${address}', () => console.log(s.address().port));
      process.stdin.resume(); process.stdin.on('end', () => process.exit(0));`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(child);
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
    });
    return { pid: child.pid!, port: Number(line) };
  }

  it('finds the child that holds an IPv4 port, with its command line', async () => {
    const { pid, port } = await childHolding('udp4', '127.0.0.1');
    const holders = await findPortHolders(port);
    expect(holders).toHaveLength(1);
    expect(holders[0]).toMatchObject({ family: 4, localAddress: '127.0.0.1', localPort: port, pid, command: 'node', parentPid: process.pid });
    expect(holders[0]?.cmdline).toContain('-e');
    expect(describePortHolders(holders)).toContain(`node (pid ${pid}: `);
  });

  it('finds the holder of an IPv6 port, and only in the table asked for', async () => {
    const { pid, port } = await childHolding('udp6', '::1');
    expect(await findPortHolders(port, { families: [6] })).toMatchObject([{ family: 6, localAddress: '::1', pid }]);
    expect(await findPortHolders(port, { families: [4] })).toEqual([]);
  });

  it('finds who listens on a TCP port, not the connections to it, and not in the UDP tables', async () => {
    // The child listens and accepts: its accepted socket has the same local port, in state ESTABLISHED.
    const script = `const server = require('node:net').createServer((socket) => socket.on('data', () => {}));
      server.listen(0, '127.0.0.1', () => console.log(server.address().port));
      process.stdin.resume(); process.stdin.on('end', () => process.exit(0));`;
    // An argument with a line break and a terminal escape: the holder's description is printed to a terminal.
    const child = spawn(process.execPath, ['-e', script, 'evil\n\u001b[2Jname'], { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(child);
    const port = Number(await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve)));
    const client = connect(port, '127.0.0.1');
    await new Promise((resolve) => client.once('connect', resolve));
    try {
      const holders = await findPortHolders(port, { protocol: 'tcp' });
      expect(holders).toHaveLength(1);
      expect(holders[0]).toMatchObject({ family: 4, localAddress: '127.0.0.1', localPort: port, pid: child.pid, command: 'node' });
      expect(holders[0]!.cmdline).toContain('evil [2Jname');
      expect(describePortHolders(holders)).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
      expect(await findPortHolders(port)).toEqual([]);
    } finally {
      client.destroy();
    }
  });

  it('finds nobody on a port nobody holds', async () => {
    const { port } = await childHolding('udp4', '127.0.0.1');
    children[0]!.stdin!.end();
    await new Promise((resolve) => children[0]!.once('exit', resolve));
    expect(await findPortHolders(port)).toEqual([]);
  });
});
