// Four machines power on at once (a rack being imaged): each gets its own lease and boots to the marker.
import { describe, expect, it } from 'vitest';
import type { DhcpPacketEvent } from '../../src/servers/events.js';
import { labMac, labUuid, startVm, type Vm } from './lab/vm.js';
import { labSkipReason, sharedLab, startPxedeck } from './support/pxedeck-lab.js';

const skipReason = labSkipReason();

describe.skipIf(skipReason !== undefined)(`several machines at once${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  const shared = sharedLab();

  it('four BIOS VMs booting together get four distinct leases and all reach the marker', async () => {
    const { lab } = shared;
    const pxedeck = await startPxedeck(lab, { mode: 'dhcp', marker: 'rack' });
    const vms: Vm[] = [];
    try {
      const macs = [1, 2, 3, 4].map((index) => labMac(60 + index));
      for (const mac of macs) vms.push(await startVm({ lab, tap: await lab.addTap(), firmware: 'bios-ipxe', mac, uuid: labUuid() }));
      const markers = await Promise.all(vms.map((vm) => vm.waitForBoot(150_000)));
      expect(markers).toEqual(['rack', 'rack', 'rack', 'rack']);
      const leases = macs.map((mac) => pxedeck.events().find((event): event is DhcpPacketEvent => event.kind === 'dhcp.sent' && event.mac === mac && event.messageType === 'ACK')?.yiaddr);
      expect(leases.every((ip) => ip !== undefined && /^10\.77\.0\.1\d\d$/.test(ip))).toBe(true);
      expect(new Set(leases).size).toBe(4);
    } finally {
      await Promise.all(vms.map((vm) => vm.stop()));
      await pxedeck.stop();
    }
  }, 200_000);
});
