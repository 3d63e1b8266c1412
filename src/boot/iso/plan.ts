/**
 * How an ISO boots over the network, decided from its snapshot: per firmware kind, one method, with paths
 * inside the image. Command lines may use {{iso_url}} (the image itself, served with Range) and
 * {{tree_url}} (its files, served by path), besides every variable a profile may use.
 */

/** An initrd: a file inside the image, or the whole image (handed to the kernel as a file named `name`). */
export type IsoInitrd = { readonly path: string } | { readonly wholeImage: true; readonly name: string };

export type IsoMethod =
  | { readonly kind: 'kernel'; readonly kernel: string; readonly initrds: readonly IsoInitrd[]; readonly cmdline: string }
  /** wimboot (from the boot directory) with files from the image, each under the name Windows' boot manager expects. */
  | { readonly kind: 'wimboot'; readonly files: ReadonlyArray<{ readonly path: string; readonly name: string }> }
  /** iPXE attaches the whole image as a BIOS disk over HTTP and boots its El Torito image. */
  | { readonly kind: 'sanboot' }
  /** An EFI program from the image, run directly. */
  | { readonly kind: 'chain'; readonly path: string; readonly args: string };

export type IsoLayout =
  | 'ubuntu-casper'
  | 'anaconda'
  | 'debian-live'
  | 'arch'
  | 'alpine'
  | 'proxmox'
  | 'windows'
  | 'boot-menu'
  | 'el-torito'
  | 'sanboot';

export interface IsoBootPlan {
  readonly layout: IsoLayout;
  /** e.g. "Ubuntu-Server", "Fedora", "Rocky Linux"; the file name when nothing better is known. */
  readonly distribution: string;
  readonly version?: string;
  readonly bios?: IsoMethod;
  readonly efi?: IsoMethod;
  /** One line for the console: what was recognised and how it boots. */
  readonly summary: string;
  /** Limits the operator should know (RAM needed, what is not tested, what the installer will still ask). */
  readonly notes: readonly string[];
}

export type IsoRecognition =
  | { readonly ok: true; readonly plan: IsoBootPlan }
  | { readonly ok: false; readonly distribution?: string; readonly version?: string; readonly reason: string };

/** Every image path a plan names (the catalog checks they exist and can be served). */
export function planPaths(plan: IsoBootPlan): string[] {
  const paths = new Set<string>();
  for (const method of [plan.bios, plan.efi]) {
    if (!method) continue;
    if (method.kind === 'kernel') {
      paths.add(method.kernel);
      for (const initrd of method.initrds) if ('path' in initrd) paths.add(initrd.path);
    } else if (method.kind === 'wimboot') for (const file of method.files) paths.add(file.path);
    else if (method.kind === 'chain') paths.add(method.path);
  }
  return [...paths];
}

/** "kernel casper/vmlinuz" / "wimboot" / "sanboot" / "EFI program": how a method boots, in a few words. */
export function describeMethod(method: IsoMethod): string {
  switch (method.kind) {
    case 'kernel':
      return `kernel ${method.kernel}${method.initrds.length ? ` + ${method.initrds.map((initrd) => ('path' in initrd ? initrd.path : `the ISO as ${initrd.name}`)).join(', ')}` : ''}`;
    case 'wimboot':
      return `wimboot + ${method.files.map((file) => file.path).join(', ')}`;
    case 'sanboot':
      return 'iPXE sanboot of the whole ISO';
    case 'chain':
      return `EFI program ${method.path}`;
  }
}
