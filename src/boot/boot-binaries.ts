/** The network boot programs pxedeck hands out, and which Debian package ships each. */

export const bootBinaryPackages: Readonly<Record<string, string>> = {
  'undionly.kpxe': 'ipxe',
  'ipxe.efi': 'ipxe',
  'snponly.efi': 'ipxe',
  'ipxe.lkrn': 'ipxe',
  'pxelinux.0': 'pxelinux',
  'lpxelinux.0': 'pxelinux',
  'ldlinux.c32': 'syslinux-common',
  'menu.c32': 'syslinux-common',
  'libutil.c32': 'syslinux-common',
};

/** What to tell the operator when a binary is not there. */
export function missingBinaryHint(file: string): string {
  const pkg = bootBinaryPackages[file];
  return pkg
    ? `${file} is missing: install the Debian package ${pkg} (apt-get install ${pkg}) or put ${file} in the boot directory`
    : `${file} is missing: no Debian package ships it; build or download it and put it in the boot directory`;
}
