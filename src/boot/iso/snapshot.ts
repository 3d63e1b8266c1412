/**
 * What the layout recognisers see of an ISO: a few directory listings and small text files, read by the
 * ISO catalog (src/servers/iso) from the probe lists below. Recognition itself is pure and synchronous.
 * Paths are written without a leading slash; lookups ignore case (plain ISO 9660 names are upper-case).
 */
import type { BootEmulation, BootPlatform } from '../../protocol/iso9660/el-torito.js';

export interface SnapshotEntry {
  readonly name: string;
  readonly kind: 'file' | 'directory' | 'symlink';
  readonly size: number;
  readonly unreadable?: string;
}

export interface SnapshotBootImage {
  readonly platform: BootPlatform;
  readonly emulation: BootEmulation;
  /** The file in the tree the image is (found by its position), when there is one. */
  readonly path?: string;
  readonly isLinuxKernel: boolean;
}

export interface IsoSnapshot {
  /** The ISO's file name, e.g. ubuntu-24.04.1-live-server-amd64.iso. */
  readonly fileName: string;
  readonly volumeId: string;
  readonly size: number;
  /** The file is shorter than the volume it holds: an interrupted download. */
  readonly truncated: boolean;
  /** A UDF file system is on the image too. */
  readonly hasUdf: boolean;
  /** Lower-case directory path ('' for the root) → its entries, for the probed directories that exist. */
  readonly directories: ReadonlyMap<string, readonly SnapshotEntry[]>;
  /** Lower-case path → text, for the probed text files that exist. */
  readonly texts: ReadonlyMap<string, string>;
  readonly bootImages: readonly SnapshotBootImage[];
}

/** Directories the catalog lists (when present). */
export const PROBED_DIRECTORIES: readonly string[] = [
  '',
  '.disk',
  'casper',
  'images',
  'images/pxeboot',
  'isolinux',
  'syslinux',
  'boot',
  'boot/grub',
  'boot/grub/x86_64-efi',
  'boot/isolinux',
  'boot/syslinux',
  'boot/x86_64',
  'efi/boot',
  'efi/microsoft/boot',
  'live',
  'install.amd',
  'install',
  'arch',
  'arch/boot',
  'arch/boot/x86_64',
  'sources',
];

/** Text files read from the probed directories: exact names, or boot-menu configs by extension. */
export function isProbedText(directory: string, name: string): boolean {
  const lower = name.toLowerCase();
  const path = directory ? `${directory}/${lower}` : lower;
  if (['.treeinfo', '.discinfo', '.alpine-release', 'readme.txt', '.disk/info', 'arch/version', 'boot/grub/loopback.cfg'].includes(path)) return true;
  return ['isolinux', 'syslinux', 'boot/isolinux', 'boot/syslinux', 'boot/grub', 'efi/boot', ''].includes(directory) && /\.(cfg|conf)$/.test(lower);
}

/** At most this many text files, each at most MAX_TEXT_BYTES. */
export const MAX_TEXTS = 64;
export const MAX_TEXT_BYTES = 256 * 1024;

function normal(path: string): string {
  return path.replace(/^\/+|\/+$/g, '').replace(/\/{2,}/g, '/').toLowerCase();
}

export function listing(snapshot: IsoSnapshot, directory: string): readonly SnapshotEntry[] {
  return snapshot.directories.get(normal(directory)) ?? [];
}

/** The entry at `path` if its directory was probed. */
export function entryAt(snapshot: IsoSnapshot, path: string): SnapshotEntry | undefined {
  const clean = normal(path);
  const cut = clean.lastIndexOf('/');
  const name = clean.slice(cut + 1);
  return listing(snapshot, cut === -1 ? '' : clean.slice(0, cut)).find((entry) => entry.name.toLowerCase() === name);
}

export function hasFile(snapshot: IsoSnapshot, path: string): boolean {
  return entryAt(snapshot, path)?.kind === 'file';
}

/** The path of the first of `paths` that is a file on the image, as the image spells it. */
export function firstFile(snapshot: IsoSnapshot, paths: readonly string[]): string | undefined {
  for (const path of paths) {
    const entry = entryAt(snapshot, path);
    if (entry?.kind === 'file') {
      const clean = path.replace(/^\/+/, '');
      const cut = clean.lastIndexOf('/');
      return cut === -1 ? entry.name : `${clean.slice(0, cut)}/${entry.name}`;
    }
  }
  return undefined;
}

export function textAt(snapshot: IsoSnapshot, path: string): string | undefined {
  return snapshot.texts.get(normal(path));
}

/** Files in `directory` whose names match. */
export function filesMatching(snapshot: IsoSnapshot, directory: string, pattern: RegExp): string[] {
  return listing(snapshot, directory)
    .filter((entry) => entry.kind === 'file' && pattern.test(entry.name))
    .map((entry) => (directory ? `${directory}/${entry.name}` : entry.name));
}
