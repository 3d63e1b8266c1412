/** The network boot programs pxedeck hands out, and which Debian package ships each. */

export const bootBinaryPackages: Readonly<Record<string, string>> = {
  'undionly.kpxe': 'ipxe',
  'undionly.kkpxe': 'ipxe',
  'ipxe.efi': 'ipxe',
  'snponly.efi': 'ipxe',
  'ipxe.lkrn': 'ipxe',
  'pxelinux.0': 'pxelinux',
  'lpxelinux.0': 'pxelinux',
  'ldlinux.c32': 'syslinux-common',
  'menu.c32': 'syslinux-common',
  'libutil.c32': 'syslinux-common',
  'shimx64.efi': 'shim-signed',
  'mmx64.efi': 'shim-signed',
  'grubx64.efi': 'grub-efi-amd64-signed',
  'memtest86+x64.bin': 'memtest86+',
  'memtest86+x64.efi': 'memtest86+',
};

/**
 * The Secure Boot chain for x64 UEFI: shim (signed by Microsoft's UEFI CA, which firmware trusts) loads
 * `grubx64.efi` from the directory it came from, and GRUB (signed by the distribution, which shim trusts)
 * loads the signed kernel. The names are what shim and the firmware ask for, whatever the package calls them.
 */
export const signedChain = { shim: 'shimx64.efi', grub: 'grubx64.efi', mokManager: 'mmx64.efi' } as const;

/** Where Debian and Ubuntu install each signed binary, served under the chain's names. */
export const signedChainPackagePaths: Readonly<Record<string, readonly string[]>> = {
  [signedChain.shim]: ['/usr/lib/shim/shimx64.efi.signed'],
  [signedChain.grub]: ['/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed'],
  [signedChain.mokManager]: ['/usr/lib/shim/mmx64.efi.signed'],
};

/** What to tell the operator when a binary is not there. */
export function missingBinaryHint(file: string): string {
  const pkg = bootBinaryPackages[file];
  return pkg
    ? `${file} is missing: install the Debian package ${pkg} (apt-get install ${pkg}) or put ${file} in the boot directory`
    : `${file} is missing: no Debian package ships it; build or download it and put it in the boot directory`;
}

/**
 * Files the signed chain asks for only in case they are there: shim's revocation and certificate add-ons
 * (and MokManager when it is not installed), GRUB's module lists, fonts and translations beside its prefix.
 * Missing, they change nothing; the answer says who looks for it, so the event never reads as a failure.
 */
export function optionalLookup(path: string): string | undefined {
  const name = path.replace(/^\/+/, '');
  if (/^(revocations_[a-z0-9]+\.efi|shim_certificate[a-z0-9_]*\.efi|mm[a-z0-9]+\.efi)$/i.test(name)) return 'shim looks for it in case it is there';
  if (/^grub\/([a-z0-9_]+-(efi|pc)\/[^/]+\.(lst|mod|cfg)|fonts\/[^/]+|locale\/[^/]+)$/i.test(name)) return 'GRUB looks for it in case it is there';
  return undefined;
}
