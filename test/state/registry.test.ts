import { describe, expect, it } from 'vitest';
import type { Mac } from '../../src/protocol/mac.js';
import type { Dhcp6PacketEvent, PxedeckEvent } from '../../src/servers/events.js';
import { ClientRegistry } from '../../src/state/registry.js';

const mac = '52:54:00:00:00:01' as Mac;

function received(time: number, client: string, messageType = 'DISCOVER'): PxedeckEvent {
  return { kind: 'dhcp.received', time, source: 'dhcp4', mac, xid: 1, messageType, peer: '0.0.0.0:68', summary: '', options: {}, client };
}

describe('client registry', () => {
  it('folds a boot into one record per MAC, stage by stage', () => {
    const registry = new ClientRegistry();
    registry.apply(received(1, 'BIOS PXE'));
    registry.apply({ kind: 'dhcp.sent', time: 2, source: 'dhcp4', mac, xid: 1, messageType: 'OFFER', peer: 'x', summary: '', options: {}, yiaddr: '10.0.0.100', ip: '10.0.0.100', bootFile: 'undionly.kpxe' });
    registry.apply({ kind: 'transfer.start', time: 3, source: 'tftp', ip: '10.0.0.100', file: 'undionly.kpxe', bytes: 0, size: 70000 });
    registry.apply({ kind: 'transfer.done', time: 4, source: 'tftp', ip: '10.0.0.100', file: 'undionly.kpxe', bytes: 70000, size: 70000 });
    registry.apply(received(5, 'iPXE x86 BIOS'));
    const record = registry.get(mac)!;
    expect(record.stage).toBe('ipxe');
    expect(record.path.map((step) => step.stage)).toEqual(['dhcp', 'nbp', 'ipxe']);
    expect(record.ip).toBe('10.0.0.100');
    expect(record.transfer).toMatchObject({ file: 'undionly.kpxe', done: true, bytes: 70000 });
    expect(registry.history(mac)).toEqual({ nbpDownloadedAt: 4, nbpFile: 'undionly.kpxe' });
    expect(registry.macForIp('10.0.0.100')).toBe(mac);
  });

  it('starts a new cycle when firmware DHCPs again after getting further', () => {
    const registry = new ClientRegistry();
    registry.apply(received(1, 'BIOS PXE'));
    registry.apply({ kind: 'transfer.start', time: 2, source: 'tftp', mac, file: 'undionly.kpxe', bytes: 0 });
    registry.apply(received(3, 'BIOS PXE'));
    expect(registry.get(mac)).toMatchObject({ stage: 'dhcp', cycles: 2 });
  });

  it('bounds the timeline and hands out stable snapshots between changes', () => {
    const registry = new ClientRegistry({ timelineLimit: 5 });
    let notified = 0;
    registry.subscribe(() => (notified += 1));
    for (let i = 0; i < 20; i += 1) registry.apply(received(i, 'BIOS PXE', 'REQUEST'));
    expect(registry.get(mac)!.timeline).toHaveLength(5);
    expect(notified).toBe(20);
    const snapshot = registry.getSnapshot();
    expect(registry.getSnapshot()).toBe(snapshot);
    registry.apply({ kind: 'packet.malformed', time: 30, source: 'dhcp4', peer: 'x', error: 'bad', length: 3, count: 1 });
    expect(registry.getSnapshot()).not.toBe(snapshot);
    expect(registry.getSnapshot().malformed).toBe(1);
  });

  it('never changes a record once handed out (snapshot or get): the next event makes a new one, timeline and all', () => {
    const registry = new ClientRegistry({ timelineLimit: 3 });
    registry.apply(received(1, 'BIOS PXE'));
    const fromSnapshot = registry.getSnapshot().clients.get(mac)!;
    expect(fromSnapshot.timeline.slice().map((event) => event.time)).toEqual([1]);
    registry.apply(received(2, 'BIOS PXE', 'REQUEST'));
    registry.apply(received(3, 'BIOS PXE', 'REQUEST'));
    const fromGet = registry.get(mac)!;
    expect(fromGet).not.toBe(fromSnapshot);
    expect(fromGet.timeline.slice().map((event) => event.time)).toEqual([1, 2, 3]);
    registry.apply(received(4, 'BIOS PXE', 'REQUEST'));
    registry.apply({ kind: 'syslog.line', time: 5, source: 'syslog', mac, ip: '10.0.0.9', peer: '10.0.0.9:514', facility: 'user', severity: 'info', message: 'hello' });
    // What was handed out is as it was, ring bounds included.
    expect(fromSnapshot.timeline.slice().map((event) => event.time)).toEqual([1]);
    expect(fromSnapshot.lastSeen).toBe(1);
    expect(fromGet.timeline.slice().map((event) => event.time)).toEqual([1, 2, 3]);
    expect(fromGet.log).toHaveLength(0);
    const latest = registry.get(mac)!;
    expect(latest.timeline.slice().map((event) => event.time)).toEqual([2, 3, 4]);
    expect(latest.log.slice().map((event) => event.time)).toEqual([5]);
    expect(latest.lastSeen).toBe(5);
  });
});

describe('client registry: after the kernel, what the machine runs is heard from as the installer stage', () => {
  const ip = '10.0.0.100';
  const http = (time: number, path: string, userAgent: string | undefined, route: 'file' | 'named-file' | 'beacon' = 'file', status = 200): PxedeckEvent => ({
    kind: 'http.request',
    time,
    source: 'http',
    ip,
    method: 'GET',
    path,
    status,
    route,
    ...(userAgent && { userAgent }),
  });
  const syslog = (time: number, app: string | undefined, message: string): PxedeckEvent => ({
    kind: 'syslog.line',
    time,
    source: 'syslog',
    ip,
    peer: `${ip}:514`,
    facility: 'user',
    severity: 'info',
    ...(app && { app }),
    message,
  });
  /** iPXE got its address, its script, the kernel and initrd, and said "booted". */
  function bootedMachine(beacon = true): ClientRegistry {
    const registry = new ClientRegistry();
    registry.apply({ ...(received(1, 'iPXE x86 BIOS') as Extract<PxedeckEvent, { kind: 'dhcp.received' | 'dhcp.sent' }>), ip });
    registry.apply({ kind: 'http.request', time: 2, source: 'http', ip, mac, method: 'GET', path: '/ipxe', status: 200, route: 'script', userAgent: 'iPXE/1.0.0' });
    registry.apply({ kind: 'transfer.start', time: 3, source: 'http', ip, mac, file: '/local-1-linux', bytes: 0 });
    registry.apply({ kind: 'transfer.start', time: 4, source: 'http', ip, mac, file: '/local-2-initrd.gz', bytes: 0 });
    registry.apply({ kind: 'transfer.done', time: 5, source: 'http', ip, mac, file: '/local-2-initrd.gz', bytes: 10 });
    registry.apply(http(5, '/local-2-initrd.gz', 'iPXE/1.0.0', 'named-file'));
    if (beacon) registry.apply({ kind: 'boot.beacon', time: 6, source: 'http', beacon: 'booted', mac, ip });
    return registry;
  }

  it('the preseed fetch by the installer (its own user agent) moves the machine past booted; its "done" to installed', () => {
    const registry = bootedMachine();
    expect(registry.get(mac)!.stage).toBe('booted');
    registry.apply(http(60, '/files/preseed/debian.cfg', 'Wget'));
    expect(registry.get(mac)!.stage).toBe('installer');
    expect(registry.get(mac)!.path.map((step) => step.stage)).toEqual(['dhcp', 'ipxe', 'script', 'kernel', 'initrd', 'booted', 'installer']);
    registry.apply({ kind: 'boot.beacon', time: 900, source: 'http', beacon: 'done', mac, ip });
    expect(registry.get(mac)!.stage).toBe('installed');
  });

  it('a syslog line from the booted system is the installer stage, and it lands in that machine\'s log', () => {
    const registry = bootedMachine();
    registry.apply(syslog(50, 'netcfg', 'DEBUG: State is now 1'));
    expect(registry.get(mac)!.stage).toBe('installer');
    expect(registry.get(mac)!.log.slice()).toEqual([expect.objectContaining({ message: 'DEBUG: State is now 1' })]);
  });

  it('without the beacon (PXELINUX direct), a line after the initrd still means the installer runs', () => {
    const registry = bootedMachine(false);
    expect(registry.get(mac)!.stage).toBe('initrd');
    registry.apply(syslog(50, undefined, 'Starting system log daemon'));
    expect(registry.get(mac)!.stage).toBe('installer');
  });

  it('over IPv6 the installer logs from the address it formed by SLAAC: the known MAC inside it names the machine', () => {
    const registry = bootedMachine();
    const fromSlaac = (address: string): PxedeckEvent => ({ ...(syslog(70, 'netcfg', 'DEBUG: IPv6 found') as Extract<PxedeckEvent, { kind: 'syslog.line' }>), ip: address, peer: `[${address}]:514` });
    registry.apply(fromSlaac('fd77::5054:ff:fe00:1'));
    expect(registry.get(mac)!.stage).toBe('installer');
    expect(registry.get(mac)!.log.slice()).toEqual([expect.objectContaining({ ip: 'fd77::5054:ff:fe00:1' })]);
    expect(registry.macForIp('fd77::5054:ff:fe00:1')).toBe(mac);
    // A MAC pxedeck never saw makes no row, whatever address it is inside.
    registry.apply(fromSlaac('fd77::5054:ff:fe00:99'));
    expect([...registry.getSnapshot().clients.keys()]).toEqual([mac]);
  });

  it('boot programs are not the installer: iPXE\'s own syslog lines and downloads, a refused request, anything before the kernel', () => {
    const registry = bootedMachine(false);
    registry.apply(syslog(7, 'ipxe', 'http://10.0.0.1/local-2-initrd.gz... ok'));
    registry.apply(http(8, '/local-3-extra.img', 'iPXE/1.0.0', 'named-file'));
    registry.apply(http(9, '/files/lpxelinux-module.c32', 'Syslinux/6.04'));
    registry.apply(http(10, '/files/preseed/missing.cfg', 'Wget', 'file', 404));
    registry.apply(http(11, '/files/x', undefined));
    expect(registry.get(mac)!.stage).toBe('initrd');

    const early = new ClientRegistry();
    early.apply({ ...(received(1, 'iPXE x86 BIOS') as Extract<PxedeckEvent, { kind: 'dhcp.received' | 'dhcp.sent' }>), ip });
    early.apply(syslog(2, 'kernel', 'a line before any kernel was handed out'));
    early.apply(http(3, '/files/preseed/debian.cfg', 'Wget'));
    expect(early.get(mac)!.stage).toBe('ipxe');
  });
});

describe('client registry: DHCPv6 clients fold into the machine they are', () => {
  const uuid = 'dcf8c27e-b9cb-4441-8b46-ed384d320980';
  /** The same UUID with its first three fields byte-swapped (how EDK2 firmware writes it into its DUID). */
  const swapped = '7ec2f8dc-cbb9-4144-8b46-ed384d320980';
  const v6 = (fields: Partial<Dhcp6PacketEvent> & { time: number }): PxedeckEvent => ({
    kind: 'dhcp6.received',
    source: 'dhcp6',
    messageType: 'SOLICIT',
    transactionId: 1,
    peer: '[fe80::1]:546',
    summary: '',
    options: {},
    ...fields,
  });

  it('a dual-stack machine: DHCPv4 with option 97, then a MAC-less DHCPv6 Solicit with the swapped UUID, is one row', () => {
    const registry = new ClientRegistry();
    registry.apply({ ...(received(1, 'PXE UEFI x64') as Extract<PxedeckEvent, { kind: 'dhcp.received' | 'dhcp.sent' }>), options: { '97:client-uuid': uuid } });
    registry.apply(v6({ time: 2, uuid: swapped, duid: '0004aa', client: 'uefi-pxe' }));
    registry.apply({ kind: 'dhcp6.sent', time: 3, source: 'dhcp6', messageType: 'ADVERTISE', transactionId: 1, peer: 'x', summary: '', options: {}, duid: '0004aa', bootFileUrl: 'tftp://[fd77::1]/ipxe.efi' });
    expect([...registry.getSnapshot().clients.keys()]).toEqual([mac]);
    expect(registry.get(mac)).toMatchObject({ firmware: 'PXE UEFI (IPv6)', lastBootFile: 'tftp://[fd77::1]/ipxe.efi' });
    expect(registry.get(mac)!.timeline).toHaveLength(3);
  });

  it('OVMF then iPXE over IPv6 only: the MAC learnt with one DUID carries to a lease, its address and the iPXE stage', () => {
    const registry = new ClientRegistry();
    registry.apply(v6({ time: 1, mac, uuid: swapped, duid: '0004bb', client: 'uefi-pxe' }));
    registry.apply({ kind: 'lease6.granted', time: 2, source: 'dhcp6', ip: 'fd77::100', duid: '0004bb', iaid: 1 });
    expect(registry.macForIp('fd77::100')).toBe(mac);
    registry.apply({ kind: 'transfer.done', time: 3, source: 'tftp', ip: 'fd77::100', file: 'ipxe.efi', bytes: 1000, size: 1000 });
    // iPXE's DUID differs from OVMF's, its UUID byte order too; the UUID still names the machine.
    registry.apply(v6({ time: 4, uuid, duid: '0004cc', client: 'ipxe' }));
    expect(registry.getSnapshot().clients.size).toBe(1);
    expect(registry.get(mac)).toMatchObject({ stage: 'ipxe', firmware: 'iPXE (IPv6)', ip: 'fd77::100', cycles: 1 });
  });

  it('an unknown DHCPv6 client without MAC, UUID match or DUID match makes no row', () => {
    const registry = new ClientRegistry();
    registry.apply(v6({ time: 1, duid: '0004dd' }));
    expect(registry.getSnapshot().clients.size).toBe(0);
  });
});
