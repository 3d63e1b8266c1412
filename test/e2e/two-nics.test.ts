// The T2B seed: VMs with two NICs, the first on a public segment where nothing answers PXE, the second on the
// boot network. SeaBIOS tries each NIC's iPXE ROM in boot order, so the machine boots through the second; pxedeck
// must show that one machine (its SMBIOS UUID, the MAC it booted from), not a row for the dead NIC, and the
// multi-nic-menu preset must list both adapters (SeaBIOS mirrors its text console to the serial port here).
import { describe, expect, it } from 'vitest';
import { uuidMatchKey } from '../../src/boot/dhcp6-identity.js';
import type { DhcpPacketEvent } from '../../src/servers/events.js';
import { labMac, labUuid, startVm } from './lab/vm.js';
import { clientRows, labSkipReason, sharedLab, startPxedeck } from './support/pxedeck-lab.js';
import { optionValue } from '../../src/protocol/dhcp4/options-view.js';

const skipReason = labSkipReason();

/** The serial log without SeaBIOS's console escapes (cursor moves, colours). */
function plainText(serial: string): string {
  return serial.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
}

describe.skipIf(skipReason !== undefined)(`two NICs, the first on a dead segment${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  const shared = sharedLab();

  it('boots through the second NIC: one machine row with that MAC and its UUID, none for the dead NIC; multi-nic-menu lists both adapters', async () => {
    const { lab } = shared;
    const deadMac = labMac(70);
    const benchMac = labMac(71);
    const uuid = labUuid();
    const pxedeck = await startPxedeck(lab, {
      mode: 'dhcp',
      assignments: { [benchMac]: { target: { kind: 'profile', profile: 'multi-nic-menu' }, variables: { timeout_ms: '60000' } } },
    });
    const dead = await lab.addTap({ dead: true });
    const bench = await lab.addTap();
    const vm = await startVm({ lab, tap: dead, firmware: 'bios-ipxe', mac: deadMac, uuid, moreNics: [{ tap: bench, mac: benchMac }], biosConsoleOnSerial: true });
    try {
      const menu = /Network boot options for ([0-9a-f-]{36})[\s\S]*net0: ([0-9a-f:]{17})[\s\S]*net1: ([0-9a-f:]{17})/i;
      const deadline = Date.now() + 120_000;
      let listed: RegExpMatchArray | null = null;
      while (!(listed = plainText(vm.serial()).match(menu))) {
        if (Date.now() > deadline) throw new Error(`no multi-NIC menu listing both adapters within 120 s; serial tail:\n${plainText(vm.serial()).slice(-2000)}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(listed.slice(1).map((value) => value.toLowerCase())).toEqual([uuid, deadMac, benchMac]);

      const events = pxedeck.events();
      const requests = events.filter((event): event is DhcpPacketEvent => event.kind === 'dhcp.received');
      expect(requests.length).toBeGreaterThan(0);
      // Every DHCP request came from the second NIC and names the machine's SMBIOS UUID (option 97, whose first
      // three fields firmware sends in either byte order).
      expect(new Set(requests.map((event) => event.mac))).toEqual(new Set([benchMac]));
      expect(new Set(requests.map((event) => uuidMatchKey(String(optionValue(event.options, '97:client-uuid')))))).toEqual(new Set([uuidMatchKey(uuid)]));
      expect(events.some((event) => event.mac === deadMac)).toBe(false);
      const script = events.find((event) => event.kind === 'http.request' && event.route === 'script');
      expect(script).toMatchObject({ mac: benchMac });
      const rows = await clientRows(lab, pxedeck);
      expect(rows.map((row) => row.mac)).toEqual([benchMac]);
      console.log(`two NICs: menu listing both adapters ${((Date.now() - vm.startedAt) / 1000).toFixed(1)} s after QEMU started`);
    } finally {
      await vm.stop();
      await pxedeck.stop();
    }
  }, 180_000);
});
