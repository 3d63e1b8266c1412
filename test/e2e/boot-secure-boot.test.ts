// Secure Boot machines (OVMF with Microsoft's keys enrolled, Secure Boot enforced, OVMF's own PXE) boot
// through pxedeck's signed chain: shim → signed GRUB → the signed lab kernel, all over TFTP, and the lab
// initrd reports that the kernel saw Secure Boot enabled. Each scenario runs once, bounded in time.
import { existsSync, mkdirSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DhcpPacketEvent, PxedeckEvent } from '../../src/servers/events.js';
import { ensureLabArtifacts, secureBootMarker } from './lab/artifacts.js';
import { startDnsmasq } from './lab/services.js';
import { labMac, labUuid, startVm } from './lab/vm.js';
import { labSkipReason, markerCmdline, sharedLab, startPxedeck, type LabPxedeck, type StartOptions } from './support/pxedeck-lab.js';

const signedBinaries = ['/usr/lib/shim/shimx64.efi.signed', '/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed'];
const missingSigned = signedBinaries.filter((path) => !existsSync(path));
const skipReason = labSkipReason() ?? (missingSigned.length ? `missing ${missingSigned.join(', ')} (Debian packages shim-signed, grub-efi-amd64-signed)` : undefined);

/** Under Secure Boot on q35 the lab kernel needs more than the lab's usual 256 MB (measured: it resets at 256). */
const SECURE_BOOT_MEMORY_MB = 512;

const tftpFiles = (pxedeck: LabPxedeck, mac: string, kind: PxedeckEvent['kind'] = 'transfer.done') =>
  pxedeck.events().flatMap((event) => (event.kind === kind && event.mac === mac && event.source === 'tftp' ? [(event as { file: string }).file] : []));

describe.skipIf(skipReason !== undefined)(`Secure Boot machines boot the signed chain${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  const shared = sharedLab();
  let vmIndex = 60;

  async function bootSecure(options: StartOptions & { readonly marker: string }, timeoutMs: number, mac = labMac(vmIndex++)) {
    const { lab } = shared;
    const pxedeck = await startPxedeck(lab, options);
    const tap = await lab.addTap();
    const vm = await startVm({ lab, tap, firmware: 'uefi-pxe-sb', mac, uuid: labUuid(), memoryMb: SECURE_BOOT_MEMORY_MB });
    try {
      expect(await vm.waitForBoot(timeoutMs)).toBe(options.marker);
      const seconds = (Date.now() - vm.startedAt) / 1000;
      expect(vm.serial()).toContain(`${secureBootMarker} enabled`);
      return { pxedeck, mac, seconds, serial: vm.serial() };
    } catch (error) {
      const events = pxedeck.events().filter((event) => event.mac === mac).map((event) => JSON.stringify(event).slice(0, 300));
      await pxedeck.stop();
      throw new Error(`${(error as Error).message}\npxedeck events:\n${events.join('\n')}`);
    } finally {
      await vm.stop();
    }
  }

  it('a machine set to the signed chain boots it on the first try: shimx64.efi, grubx64.efi, grub.cfg, kernel, initrd over TFTP', async () => {
    const mac = labMac(vmIndex++);
    const { pxedeck, seconds } = await bootSecure({ mode: 'dhcp', marker: 'sb-set', clients: { [mac]: { uefiBootProgram: 'signed' } } }, 150_000, mac);
    try {
      const offers = pxedeck.events().filter((event): event is DhcpPacketEvent => event.kind === 'dhcp.sent' && event.mac === mac && event.messageType === 'OFFER');
      expect(offers.map((offer) => offer.bootFile)).toEqual(['shimx64.efi']);
      const files = tftpFiles(pxedeck, mac);
      expect(files).toEqual(expect.arrayContaining(['shimx64.efi', 'grubx64.efi', 'grub/grub.cfg', expect.stringMatching(/^local-[0-9a-f]{8}-vmlinuz$/), expect.stringMatching(/^local-[0-9a-f]{8}-initrd\.gz$/)]));
      expect(files).not.toContain('ipxe.efi');
      // shim's and GRUB's look-ups for optional files are answered, and never reported as failures.
      const optional = pxedeck.events().filter((event) => event.kind === 'transfer.not-found' && event.mac === mac);
      expect(optional.length).toBeGreaterThan(0);
      expect(optional.every((event) => (event as { benign?: boolean }).benign === true)).toBe(true);
      await pxedeck.waitFor((event) => event.kind === 'boot.beacon' && event.mac === mac && event.source === 'tftp', 'booted beacon over TFTP', 5_000);
      expect(pxedeck.events().filter((event) => event.kind === 'client.diagnosis' && event.mac === mac)).toEqual([]);
      console.log(`[secure boot] machine set to the signed chain: marker after ${seconds.toFixed(1)} s`);
    } finally {
      await pxedeck.stop();
    }
  }, 200_000);
});
