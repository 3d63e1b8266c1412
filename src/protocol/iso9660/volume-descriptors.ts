/**
 * The volume descriptor set (ECMA-119 §8): the primary descriptor, a Joliet supplementary descriptor,
 * El Torito's boot record, and the UDF volume recognition sequence that follows the set on UDF bridge
 * images (Windows install media keep their real tree in UDF only).
 */
import { asciiField, DESCRIPTOR_SIZE, DESCRIPTOR_START, Region, ucs2beField } from './format.js';

export interface VolumeInfo {
  readonly volumeId: string;
  readonly systemId: string;
  readonly publisherId: string;
  readonly applicationId: string;
  /** Logical block size in bytes: 512, 1024 or 2048. */
  readonly blockSize: number;
  /** Volume space size in logical blocks. */
  readonly blocks: number;
  /** The root directory record, 34 bytes, with its image offset. */
  readonly root: Region;
}

export interface VolumeDescriptorSet {
  readonly primary: VolumeInfo;
  readonly joliet?: VolumeInfo;
  /** El Torito boot catalog block, when the image is bootable from a CD drive. */
  readonly bootCatalogBlock?: number;
  /** An NSR02/NSR03 descriptor follows the set: the image carries a UDF file system. */
  readonly udf: boolean;
}

const TYPE_BOOT_RECORD = 0;
const TYPE_PRIMARY = 1;
const TYPE_SUPPLEMENTARY = 2;
const TYPE_TERMINATOR = 255;
/** A descriptor set longer than this is garbage, not a volume. */
export const MAX_DESCRIPTORS = 64;

const JOLIET_ESCAPES = ['%/@', '%/C', '%/E'];

function volumeInfo(region: Region, joliet: boolean): VolumeInfo {
  const field = (at: number, size: number, what: string) => {
    const bytes = region.slice(at, size, what);
    return joliet ? ucs2beField(bytes) : asciiField(bytes);
  };
  const blockSize = region.u16le(128, 'logical block size');
  if (blockSize !== 512 && blockSize !== 1024 && blockSize !== 2048) region.fail(`logical block size ${blockSize} is not 512, 1024 or 2048`, 128);
  const root = region.sub(156, 34, 'root directory record');
  if (root.u8(0, 'root record length') !== 34) root.fail(`root directory record length is ${root.u8(0, 'root record length')}, not 34`, 0);
  return {
    volumeId: field(40, 32, 'volume identifier'),
    systemId: field(8, 32, 'system identifier'),
    publisherId: field(318, 128, 'publisher identifier'),
    applicationId: field(574, 128, 'application identifier'),
    blockSize,
    blocks: region.u32le(80, 'volume space size'),
    root,
  };
}

/**
 * Parses the descriptors from `area`, which holds the image from byte 32768 on (at least the whole set;
 * a few sectors more to see the UDF recognition sequence).
 */
export function parseVolumeDescriptors(area: Uint8Array): VolumeDescriptorSet {
  const all: Region = new Region(area, DESCRIPTOR_START);
  let primary: VolumeInfo | undefined;
  let joliet: VolumeInfo | undefined;
  let bootCatalogBlock: number | undefined;
  let udf = false;
  let terminated = false;
  for (let index = 0; index < MAX_DESCRIPTORS && (index + 1) * DESCRIPTOR_SIZE <= area.length; index++) {
    const region = all.sub(index * DESCRIPTOR_SIZE, DESCRIPTOR_SIZE, 'volume descriptor');
    const id = asciiField(region.slice(1, 5, 'standard identifier'));
    if (terminated) {
      // After the terminator: the UDF volume recognition sequence, if any (ECMA-167 2/9.1).
      if (id === 'NSR02' || id === 'NSR03') udf = true;
      else if (id !== 'BEA01' && id !== 'BOOT2' && id !== 'CD001' && id !== 'TEA01') break;
      continue;
    }
    if (id !== 'CD001') {
      if (index === 0) region.fail(`no ISO 9660 volume descriptor (found "${id}" where "CD001" belongs)`, 1);
      region.fail(`descriptor ${index} has identifier "${id}" before the set terminator`, 1);
    }
    const type = region.u8(0, 'descriptor type');
    if (type === TYPE_TERMINATOR) {
      terminated = true;
      continue;
    }
    if (type === TYPE_PRIMARY && !primary) primary = volumeInfo(region, false);
    else if (type === TYPE_SUPPLEMENTARY && !joliet) {
      const escapes = asciiField(region.slice(88, 32, 'escape sequences'));
      if (JOLIET_ESCAPES.some((escape) => escapes.startsWith(escape))) joliet = volumeInfo(region, true);
    } else if (type === TYPE_BOOT_RECORD && asciiField(region.slice(7, 32, 'boot system identifier')) === 'EL TORITO SPECIFICATION') {
      bootCatalogBlock = region.u32le(71, 'boot catalog block');
    }
  }
  if (!terminated) all.fail('the volume descriptor set has no terminator', area.length);
  if (!primary) all.fail('the volume descriptor set has no primary volume descriptor', 0);
  return { primary, ...(joliet && { joliet }), ...(bootCatalogBlock !== undefined && { bootCatalogBlock }), udf };
}
