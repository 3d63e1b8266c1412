// IPv6-only netboot through pxedeck alone: router advertisement, DHCPv6 (address + boot file URL), the iPXE
// script and the lab kernel over HTTP on IPv6. The VM's tap drops IPv4 and ARP at the lab bridge, so the
// machine lives in an IPv6-only world while pxedeck keeps its IPv4 address (it serves both). ~40 s under TCG.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dhcp6PacketEvent, PxedeckEvent } from '../../src/servers/events.js';
import { missingLabFiles } from './lab/artifacts.js';
import { createLab, labUnavailableReason, type Lab, type Tap } from './lab/network.js';
import { labMac, labUuid, startVm } from './lab/vm.js';
import { startPxedeck } from './support/pxedeck-lab.js';

const missing = missingLabFiles();
const skipReason = labUnavailableReason() ?? (missing.length > 0 ? `missing ${missing.join(', ')}` : undefined);

/** No IPv4 to or from this tap: an nftables bridge filter in the lab's switch namespace. */
async function ipv6Only(lab: Lab, tap: Tap): Promise<void> {
  const rules = `table bridge pxdv6only {
  chain forward {
    type filter hook forward priority 0; policy accept;
    iifname "${tap.name}" ether type { ip, arp } drop
    oifname "${tap.name}" ether type { ip, arp } drop
  }
}`;
  await lab.exec(tap.ns, 'sh', ['-c', `printf '%s\\n' '${rules}' | nft -f -`]);
}

describe.skipIf(skipReason !== undefined)(`IPv6-only netboot through pxedeck${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let lab: Lab;

  beforeAll(async () => {
    lab = await createLab();
  }, 60_000);

  afterAll(async () => {
    await lab?.destroy();
  });

  it('BIOS iPXE: pxedeck RA (M/O), DHCPv6 address and script URL, kernel over HTTP [fd77::1], one machine', async () => {
    const marker = 'bios-ipv6';
    const pxedeck = await startPxedeck(lab, { mode: 'dhcp', marker, args: ['--pool6', 'fd77::100-fd77::1ff'] });
    try {
      await pxedeck.waitFor((event) => event.kind === 'ra.started', 'ra.started', 10_000);
      const tap = await lab.addTap();
      await ipv6Only(lab, tap);
      const mac = labMac(40);
      const started = Date.now();
      const vm = await startVm({ lab, tap, firmware: 'bios-ipxe', mac, uuid: labUuid() });
      try {
        expect(await vm.waitForBoot(120_000)).toBe(marker);
      } catch (error) {
        throw new Error(`${(error as Error).message}\npxedeck events:\n${pxedeck.events().filter((event) => event.source !== 'system').map((event) => JSON.stringify(event).slice(0, 300)).join('\n')}`);
      } finally {
        await vm.stop();
      }
      const bootSeconds = (Date.now() - started) / 1000;
      const events = pxedeck.events();
      const reply = events.find((event): event is Dhcp6PacketEvent => event.kind === 'dhcp6.sent' && event.messageType === 'REPLY' && (event.addresses?.length ?? 0) > 0);
      expect(reply).toBeDefined();
      expect(reply!.addresses![0]).toMatch(/^fd77::1[0-9a-f]{2}$/);
      expect(reply!.bootFileUrl).toBe('http://[fd77::1]/boot.ipxe');
      const v6Address = reply!.addresses![0]!;
      // Everything after DHCPv6 came over IPv6, and all of it is the one machine.
      const script = events.find((event) => event.kind === 'http.request' && event.route === 'script');
      expect(script).toMatchObject({ mac });
      const kernel = events.find((event) => event.kind === 'transfer.done' && event.source === 'http' && /vmlinuz/.test(event.file));
      expect(kernel).toMatchObject({ mac });
      expect(events.some((event) => event.kind === 'dhcp.received' && event.mac === mac)).toBe(false);
      const macs = new Set(events.filter((event: PxedeckEvent) => event.mac && event.source !== 'system').map((event) => event.mac));
      expect([...macs]).toEqual([mac]);
      console.log(`IPv6-only BIOS iPXE: marker after ${bootSeconds.toFixed(1)} s; DHCPv6 address ${v6Address}`);
    } finally {
      await pxedeck.stop();
    }
  }, 180_000);
});
