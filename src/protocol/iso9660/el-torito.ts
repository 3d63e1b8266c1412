/**
 * The El Torito boot catalog (the "bootable CD" specification): which boot images the image offers, for
 * which platform (BIOS x86, EFI), with which emulation, where. pxedeck cannot hand a machine a CD drive,
 * but a boot image that is itself a Linux kernel or an EFI program can be booted over HTTP.
 */
import { IsoFormatError, Region } from './format.js';

export type BootPlatform = 'bios' | 'efi' | 'other';
export type BootEmulation = 'none' | 'floppy-1.2M' | 'floppy-1.44M' | 'floppy-2.88M' | 'hard-disk';

export interface BootImage {
  readonly platform: BootPlatform;
  readonly emulation: BootEmulation;
  /** The image's first block (2048-byte sectors). */
  readonly block: number;
  /** Bytes the firmware loads: the whole floppy for floppy emulation, else sector count × 512. */
  readonly loadBytes: number;
}

const EMULATIONS: readonly BootEmulation[] = ['none', 'floppy-1.2M', 'floppy-1.44M', 'floppy-2.88M', 'hard-disk'];
const FLOPPY_BYTES: Partial<Record<BootEmulation, number>> = { 'floppy-1.2M': 1_228_800, 'floppy-1.44M': 1_474_560, 'floppy-2.88M': 2_949_120 };
const MAX_ENTRIES = 64;

function platformOf(id: number): BootPlatform {
  return id === 0 ? 'bios' : id === 0xef ? 'efi' : 'other';
}

function entry(region: Region, at: number, platform: BootPlatform): BootImage | undefined {
  const indicator = region.u8(at, 'boot indicator');
  if (indicator !== 0x88) return undefined;
  const emulation = EMULATIONS[region.u8(at + 1, 'boot media type') & 0x0f];
  if (!emulation) region.fail(`boot media type ${region.u8(at + 1, 'boot media type') & 0x0f} is unknown`, at + 1);
  const sectors = region.u16le(at + 6, 'sector count');
  return { platform, emulation, block: region.u32le(at + 8, 'load block'), loadBytes: FLOPPY_BYTES[emulation] ?? sectors * 512 };
}

/** Parses the 2048-byte catalog sector at image offset `base`. */
export function parseBootCatalog(bytes: Uint8Array, base: number): BootImage[] {
  const region: Region = new Region(bytes, base);
  if (region.length < 64) throw new IsoFormatError('the boot catalog is shorter than two entries', base);
  if (region.u8(0, 'validation header') !== 1 || region.u8(30, 'key byte') !== 0x55 || region.u8(31, 'key byte') !== 0xaa) {
    region.fail('the boot catalog has no validation entry', 0);
  }
  let sum = 0;
  for (let at = 0; at < 32; at += 2) sum = (sum + region.u16le(at, 'validation entry')) & 0xffff;
  if (sum !== 0) region.fail('the boot catalog validation entry checksum is wrong', 28);
  const images: BootImage[] = [];
  const initial = entry(region, 32, platformOf(region.u8(1, 'platform id')));
  if (initial) images.push(initial);
  let at = 64;
  for (let count = 0; at + 32 <= region.length && count < MAX_ENTRIES; ) {
    const header = region.u8(at, 'section header');
    if (header !== 0x90 && header !== 0x91) break;
    const platform = platformOf(region.u8(at + 1, 'section platform'));
    const entries = region.u16le(at + 2, 'section entry count');
    at += 32;
    for (let index = 0; index < entries && at + 32 <= region.length && count < MAX_ENTRIES; index++, count++, at += 32) {
      const image = entry(region, at, platform);
      if (image) images.push(image);
    }
    if (header === 0x91) break;
  }
  return images;
}

/** A Linux boot protocol header ("HdrS" at 0x202): the image can be loaded as a kernel. */
export function isLinuxKernelImage(head: Uint8Array): boolean {
  return head.length >= 0x206 && head[0x1fe] === 0x55 && head[0x1ff] === 0xaa && String.fromCharCode(...head.subarray(0x202, 0x206)) === 'HdrS';
}
