/**
 * Real firmware fetching its programs from pxedeck's TFTP server in the VM lab (pxedeck alone answers
 * DHCP): what FIRMWARE-FACTS says about TFTP, checked against our server's events.
 * - OVMF's own PXE asks the size first and aborts with ERROR 8 after the OACK (recorded as benign), then
 *   downloads with blksize 1468 and windowsize 4.
 * - PXELINUX (fetched by the iPXE ROM, which asks blksize 1432) fetches ldlinux.c32 with blksize 1408 and
 *   gets the config the boot core generates for the first name it asks (pxelinux.cfg/<UUID>).
 * Measured here: ipxe.efi (850 KB) in ~0.1 s after a 11 ms probe.
 * Each boot takes 15-30 s under TCG.
 */
import { describe, expect, it } from 'vitest';
import type { PxedeckEvent, TransferEvent } from '../../src/servers/events.js';
import { labMac, labUuid, startVm, type Firmware } from './lab/vm.js';
import { labSkipReason, sharedLab, startPxedeck, type LabPxedeck } from './support/pxedeck-lab.js';

const skipReason = labSkipReason();
const tftp = (mac: string) => (event: PxedeckEvent): event is TransferEvent => event.source === 'tftp' && event.mac === mac && event.kind.startsWith('transfer.');

describe.skipIf(skipReason !== undefined)(`firmware over pxedeck's TFTP${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  const shared = sharedLab();

  async function boot(pxedeck: LabPxedeck, firmware: Firmware, mac: string, marker: string): Promise<TransferEvent[]> {
    const tap = await shared.lab.addTap();
    const vm = await startVm({ lab: shared.lab, tap, firmware, mac, uuid: labUuid() });
    try {
      expect(await vm.waitForBoot(150_000)).toBe(marker);
    } finally {
      await vm.stop();
    }
    return pxedeck.events().filter(tftp(mac));
  }

  it('OVMF PXE: the size probe is benign, then blksize 1468 and windowsize 4', async () => {
    const mac = labMac(61);
    const pxedeck = await startPxedeck(shared.lab, { mode: 'dhcp', marker: 'tftp-ovmf' });
    try {
      const events = await boot(pxedeck, 'uefi-pxe', mac, 'tftp-ovmf');
      const program = events.filter((event) => event.file === 'ipxe.efi');
      const probe = program.find((event) => event.kind === 'transfer.error');
      expect(probe).toMatchObject({ benign: true, bytes: 0 });
      const starts = program.filter((event) => event.kind === 'transfer.start');
      expect(starts.at(-1)?.options).toMatchObject({ blksize: 1468, windowsize: 4 });
      const done = program.find((event) => event.kind === 'transfer.done');
      expect(done?.bytes).toBe(done?.size);
      expect(events.filter((event) => event.kind === 'transfer.error' && !event.benign)).toEqual([]);
    } finally {
      await pxedeck.stop();
    }
  }, 240_000);

  it('PXELINUX: blksize 1432 from iPXE, 1408 from PXELINUX, generated config served', async () => {
    const mac = labMac(62);
    const pxedeck = await startPxedeck(shared.lab, { mode: 'dhcp', marker: 'tftp-pxelinux', clients: { [mac]: { bootProgram: 'pxelinux' } } });
    try {
      const events = await boot(pxedeck, 'bios-ipxe', mac, 'tftp-pxelinux');
      const startOf = (file: string) => events.find((event) => event.kind === 'transfer.start' && event.file === file);
      expect(startOf('pxelinux.0')?.options).toMatchObject({ blksize: 1432 });
      expect(startOf('ldlinux.c32')?.options).toMatchObject({ blksize: 1408 });
      const configs = events.filter((event) => event.file.startsWith('pxelinux.cfg/') && event.kind === 'transfer.done');
      expect(configs.length).toBeGreaterThan(0);
      expect(configs.every((event) => event.bytes > 0 && event.bytes === event.size)).toBe(true);
      expect(events.filter((event) => event.kind === 'transfer.error' && !event.benign)).toEqual([]);
      expect(events.filter((event) => event.kind === 'transfer.refused')).toEqual([]);
    } finally {
      await pxedeck.stop();
    }
  }, 240_000);
});
