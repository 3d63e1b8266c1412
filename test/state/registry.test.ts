import { describe, expect, it } from 'vitest';
import type { Mac } from '../../src/protocol/mac.js';
import type { PxedeckEvent } from '../../src/servers/events.js';
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
});
