import { describe, expect, it } from 'vitest';
import { eventSummary } from '../../components/model/event-text.js';
import { describeEvent } from '../../src/cli/event-log.js';
import { foreignReplyText, leaseText } from '../../src/state/event-words.js';
import type { ForeignDhcpReplyEvent, Lease6Event, LeaseEvent } from '../../src/state/events.js';

const mac = '52:54:00:00:00:0a' as LeaseEvent['mac'];

describe('event texts the console and the CLI share', () => {
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
