import { describe, expect, it } from 'vitest';
import { eventSummary } from '../../components/model/event-text.js';
import { describeEvent, foreignReplyText, leaseText } from '../../src/state/event-words.js';
import type { ForeignDhcpReplyEvent, Lease6Event, LeaseEvent } from '../../src/state/events.js';

const mac = '52:54:00:00:00:0a' as LeaseEvent['mac'];

describe('event texts the console and the CLI share', () => {
  it('one wording, two ways of counting: compact sizes in the console, exact bytes and wire facts in the log', () => {
    const done = { kind: 'transfer.done', source: 'tftp', time: 0, mac, file: 'undionly.kpxe', bytes: 74213, size: 74213, durationMs: 19, rate: 3905947 } as const;
    expect(eventSummary(done)).toBe('undionly.kpxe done 72K in 0.0s (3.7M/s)');
    expect(describeEvent(done)).toBe('undionly.kpxe done 74213 bytes in 19 ms (3905947 B/s)');
    const ignored = { kind: 'dhcp.ignored', source: 'dhcp4', time: 0, mac, xid: 0x1234, reason: 'not a PXE client' } as const;
    expect(eventSummary(ignored)).toBe('ignored: not a PXE client');
    expect(describeEvent(ignored)).toBe('ignored (xid 1234): not a PXE client');
  });

  it('names a v4 or v6 lease the same way, and both views use it', () => {
    const v4: LeaseEvent = { kind: 'lease.declined', source: 'dhcp4', time: 0, mac, ip: '10.77.0.50' };
    const v6: Lease6Event = { kind: 'lease6.granted', source: 'dhcp6', time: 0, mac, ip: 'fd77::50', duid: '0001', iaid: 1 };
    expect(leaseText(v4)).toBe('lease declined 10.77.0.50');
    expect(leaseText(v6)).toBe('lease granted fd77::50');
    for (const event of [v4, v6]) expect([eventSummary(event), describeEvent(event)]).toEqual([leaseText(event), leaseText(event)]);
  });

  it('says what an overheard foreign reply offered; the CLI adds the next server', () => {
    const reply: ForeignDhcpReplyEvent = {
      kind: 'dhcp.foreign-reply', source: 'dhcp4', time: 0, mac, server: '10.77.0.1', messageType: 'OFFER', xid: 1,
      peer: '10.77.0.1:67', offered: '10.77.0.77', nextServer: '10.77.0.1', bootFile: 'pxelinux.0',
    };
    expect(foreignReplyText(reply)).toBe('OFFER from 10.77.0.1 (address 10.77.0.77) boot pxelinux.0');
    expect(eventSummary(reply)).toBe('OFFER from 10.77.0.1 (address 10.77.0.77) boot pxelinux.0');
    expect(describeEvent(reply)).toBe('OFFER from 10.77.0.1 (address 10.77.0.77) boot pxelinux.0 next-server 10.77.0.1');
    expect(foreignReplyText({ ...reply, offered: undefined, bootFile: undefined, messageType: 'NAK' })).toBe('NAK from 10.77.0.1');
  });
});
