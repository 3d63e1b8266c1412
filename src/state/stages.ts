/** The boot path a machine walks, in order; a record's stage only moves forward within one boot cycle. */
export const bootStages = ['dhcp', 'nbp', 'pxelinux', 'ipxe', 'script', 'kernel', 'initrd', 'booted', 'installed'] as const;
export type BootStage = (typeof bootStages)[number];

export function stageIndex(stage: BootStage): number {
  return bootStages.indexOf(stage);
}

/** Files that are iPXE itself: finishing one of these means the next DHCP comes from our iPXE. */
export function isIpxeBinary(file: string): boolean {
  return /(^|\/)(undionly\.k?kpxe|ipxe[^/]*\.(efi|lkrn|kpxe|pxe)|snponly\.efi|snp\.efi)$/i.test(file);
}

export function isPxelinuxBinary(file: string): boolean {
  return /(^|\/)(l?pxelinux\.0|gpxelinux\.0|syslinux\.efi)$/i.test(file);
}

/** Which stage a downloaded file puts the machine in. */
export function stageForFile(file: string): BootStage {
  if (isIpxeBinary(file) || isPxelinuxBinary(file)) return 'nbp';
  if (/(^|\/)(pxelinux\.cfg\/|[^/]+\.c32$)/i.test(file)) return 'pxelinux';
  if (/(initrd|initramfs|\.cpio|\.img)/i.test(file)) return 'initrd';
  if (/(vmlinuz|kernel|bzimage|linux|\.krn|wimboot|memtest)/i.test(file)) return 'kernel';
  return 'nbp';
}
