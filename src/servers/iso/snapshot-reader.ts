/**
 * Reads what the layout recognisers look at from an open ISO: the probed directories, the small text files
 * in them, and the El Torito boot images (with the file each one is, and whether it is a Linux kernel).
 */
import { isProbedText, MAX_TEXT_BYTES, MAX_TEXTS, PROBED_DIRECTORIES, type IsoSnapshot, type SnapshotBootImage, type SnapshotEntry } from '../../boot/iso/snapshot.js';
import { isLinuxKernelImage, parseBootCatalog } from '../../protocol/iso9660/el-torito.js';
import { IsoFormatError } from '../../protocol/iso9660/format.js';
import type { IsoEntry, IsoImage, ReadAt } from '../../protocol/iso9660/image.js';

/** Directories searched for the file an El Torito image is (by its first block). */
const BOOT_IMAGE_DIRECTORIES = ['', 'boot', 'isolinux', 'syslinux', 'boot/grub', 'images', 'efi/boot', 'boot/isolinux', 'boot/syslinux'];

export async function readSnapshot(image: IsoImage, readAt: ReadAt, fileName: string): Promise<IsoSnapshot> {
  const directories = new Map<string, readonly SnapshotEntry[]>();
  const texts = new Map<string, string>();
  const byOffset = new Map<number, string>();
  for (const directory of PROBED_DIRECTORIES) {
    const entry = directory === '' ? image.root : await image.lookup(directory);
    if (entry?.kind !== 'directory') continue;
    const entries = await image.list(entry);
    directories.set(directory, entries.map(({ name, kind, size, unreadable }) => ({ name, kind, size, ...(unreadable && { unreadable }) })));
    for (const file of entries) {
      const path = directory ? `${directory}/${file.name}` : file.name;
      if (file.kind === 'file' && file.extents[0]) byOffset.set(file.extents[0].offset, path);
      if (file.kind !== 'file' || file.unreadable || file.size > MAX_TEXT_BYTES || texts.size >= MAX_TEXTS || !isProbedText(directory, file.name)) continue;
      texts.set(path.toLowerCase(), Buffer.from(await image.readFile(file, MAX_TEXT_BYTES)).toString('utf8'));
    }
  }
  return {
    fileName,
    volumeId: image.volume.volumeId,
    size: image.size,
    truncated: image.isTruncated,
    hasUdf: image.hasUdf,
    directories,
    texts,
    bootImages: await bootImages(image, readAt, byOffset),
  };
}

async function bootImages(image: IsoImage, readAt: ReadAt, byOffset: Map<number, string>): Promise<SnapshotBootImage[]> {
  if (image.bootCatalogBlock === undefined) return [];
  const base = image.bootCatalogBlock * 2048;
  if (base + 2048 > image.size) throw new IsoFormatError('the El Torito boot catalog lies past the end of the image', base);
  const catalog = parseBootCatalog(await readAt(base, 2048), base);
  for (const directory of BOOT_IMAGE_DIRECTORIES) {
    if (PROBED_DIRECTORIES.includes(directory)) continue;
    const entry: IsoEntry | undefined = await image.lookup(directory);
    if (entry?.kind === 'directory') for (const file of await image.list(entry)) if (file.extents[0]) byOffset.set(file.extents[0].offset, `${directory}/${file.name}`);
  }
  const images: SnapshotBootImage[] = [];
  for (const boot of catalog) {
    const offset = boot.block * 2048;
    const head = offset + 1024 <= image.size ? await readAt(offset, 1024) : new Uint8Array(0);
    const path = byOffset.get(offset);
    images.push({ platform: boot.platform, emulation: boot.emulation, ...(path && { path }), isLinuxKernel: isLinuxKernelImage(head) });
  }
  return images;
}
