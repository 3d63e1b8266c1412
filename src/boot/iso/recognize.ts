/**
 * Decides how an ISO boots over the network: a known distribution layout first, then the ISO's own boot
 * menu, then an El Torito image pxedeck can load as a kernel (or an EFI program on the image), and for
 * small BIOS images iPXE's sanboot of the whole ISO as the last resort. An ISO that cannot be booted says
 * why. Pure: everything it looks at is in the snapshot.
 */
import { cdOnlyArguments, chooseEntry, menuEntries } from './boot-menus.js';
import { DISTRIBUTION_RECOGNISERS, type RecognitionEnvironment } from './distributions.js';
import { describeMethod, type IsoBootPlan, type IsoMethod, type IsoRecognition } from './plan.js';
import { firstFile, type IsoSnapshot } from './snapshot.js';

export type { RecognitionEnvironment } from './distributions.js';

/**
 * sanboot hands the whole image to BIOS as a disk read over HTTP on demand; past this size the wait for a
 * boot loader reading it at BIOS speed is long, and an operating system that loads its own drivers loses
 * the disk anyway.
 */
export const SANBOOT_MAX_BYTES = 256 * 2 ** 20;

const EFI_LOADER = 'efi/boot/bootx64.efi';

function fromMenu(snapshot: IsoSnapshot): IsoRecognition | undefined {
  const entry = chooseEntry(menuEntries(snapshot));
  if (!entry) return undefined;
  const method: IsoMethod = { kind: 'kernel', kernel: entry.kernel, initrds: entry.initrds.map((path) => ({ path })), cmdline: `${entry.args} {{extra_args}}`.trim() };
  const cdOnly = cdOnlyArguments(entry.args);
  const plan: IsoBootPlan = {
    layout: 'boot-menu',
    distribution: snapshot.volumeId || snapshot.fileName,
    bios: method,
    efi: method,
    summary: `the ISO's own ${entry.source === 'grub' ? 'GRUB' : 'ISOLINUX'} menu (${entry.file}), entry "${entry.label}": ${describeMethod(method)}`,
    notes: [
      'no known distribution layout: the command line is the one the ISO uses from a CD',
      ...(cdOnly.length ? [`it names the CD (${cdOnly.join(' ')}): a system that looks for its CD will not find it over the network`] : []),
    ],
  };
  return { ok: true, plan };
}

function fromBootImages(snapshot: IsoSnapshot): IsoRecognition | undefined {
  const kernelImage = snapshot.bootImages.find((image) => image.platform === 'bios' && image.isLinuxKernel && image.path);
  const efiLoader = firstFile(snapshot, [EFI_LOADER]);
  const hasBiosImage = snapshot.bootImages.some((image) => image.platform === 'bios');
  const efi: IsoMethod | undefined = efiLoader ? { kind: 'chain', path: efiLoader, args: '{{extra_args}}' } : undefined;
  const notes: string[] = [];
  let bios: IsoMethod | undefined;
  let layout: IsoBootPlan['layout'];
  if (kernelImage) {
    bios = { kind: 'kernel', kernel: kernelImage.path!, initrds: [], cmdline: '{{extra_args}}' };
    layout = 'el-torito';
  } else if (hasBiosImage && snapshot.size <= SANBOOT_MAX_BYTES) {
    bios = { kind: 'sanboot' };
    layout = 'sanboot';
    notes.push(
      'sanboot: BIOS reads the ISO over HTTP through iPXE as an emulated disk; it works for tools that stay on BIOS disk calls (firmware updaters, memory tests, DOS), not for systems that load their own disk drivers',
    );
  } else layout = 'el-torito';
  if (efi) notes.push(`UEFI runs ${efiLoader} straight from the ISO: fine for a self-contained EFI program, not for a boot loader that then looks for its CD`);
  if (!bios && !efi) return undefined;
  if (!bios) notes.push(hasBiosImage ? `BIOS machines: none (the ISO is ${Math.round(snapshot.size / 2 ** 20)} MiB, over the ${SANBOOT_MAX_BYTES / 2 ** 20} MiB sanboot limit)` : 'BIOS machines: none (no BIOS boot image)');
  const parts = [bios && `BIOS: ${describeMethod(bios)}`, efi && `UEFI: ${describeMethod(efi)}`].filter(Boolean);
  return {
    ok: true,
    plan: { layout, distribution: snapshot.volumeId || snapshot.fileName, ...(bios && { bios }), ...(efi && { efi }), summary: `the ISO's El Torito boot images: ${parts.join('; ')}`, notes },
  };
}

export function recognizeIso(snapshot: IsoSnapshot, environment: RecognitionEnvironment): IsoRecognition {
  if (snapshot.truncated) return { ok: false, reason: 'the file is shorter than the volume it holds: an interrupted download? Download it again' };
  for (const recognise of DISTRIBUTION_RECOGNISERS) {
    const result = recognise(snapshot, environment);
    if (result) return result;
  }
  const menu = fromMenu(snapshot);
  if (menu) return menu;
  const images = fromBootImages(snapshot);
  if (images) return images;
  return {
    ok: false,
    reason:
      snapshot.bootImages.length === 0
        ? 'it is not bootable: no El Torito boot image, no boot menu, no known layout'
        : 'no known distribution layout, no boot menu with a Linux kernel, and no boot image pxedeck can load over the network',
  };
}
