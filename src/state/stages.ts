/**
 * The boot path a machine walks, in order; a record's stage only moves forward within one boot cycle.
 * `booted`: the boot program handed the machine to its kernel (iPXE's beacon). `installer`: what runs after
 * that was heard from (its syslog lines, its own HTTP requests such as the preseed fetch). `installed`: it
 * reported the end (`/done`).
 */
export const bootStages = ['dhcp', 'nbp', 'shim', 'grub', 'pxelinux', 'ipxe', 'script', 'kernel', 'initrd', 'booted', 'installer', 'installed'] as const;
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

/** The Secure Boot chain's first stage: shim (and MokManager, which shim starts when keys are to be enrolled). */
export function isShimBinary(file: string): boolean {
  return /(^|\/)(shim[a-z0-9]*\.efi|mm[a-z0-9]*\.efi)$/i.test(file);
}

/** GRUB itself, its generated config and the files it looks for beside it. */
export function isGrubFile(file: string): boolean {
  return /(^|\/)(grub[a-z0-9]*\.efi$|grub\/)/i.test(file);
}

/** Which stage a downloaded file puts the machine in. */
export function stageForFile(file: string): BootStage {
  if (isShimBinary(file)) return 'shim';
  if (isGrubFile(file)) return 'grub';
  if (isIpxeBinary(file) || isPxelinuxBinary(file)) return 'nbp';
  if (/(^|\/)(pxelinux\.cfg\/|[^/]+\.c32$)/i.test(file)) return 'pxelinux';
  if (/(initrd|initramfs|\.cpio|\.img)/i.test(file)) return 'initrd';
  if (/(vmlinuz|kernel|bzimage|linux|\.krn|wimboot|memtest)/i.test(file)) return 'kernel';
  return 'nbp';
}

/** HTTP clients that are boot programs fetching their files, not the operating system they load. */
export function isBootProgramAgent(userAgent: string | undefined): boolean {
  return userAgent !== undefined && /^(iPXE|gPXE|Syslinux|PXELINUX|UefiHttpBoot|GRUB)\b/i.test(userAgent);
}
