/**
 * Where boot binaries come from: the operator's boot directory first, then the paths Debian, Ubuntu and
 * Fedora packages install them to. Only plain files count. Each entry names the directory that confines it
 * (served through src/servers/files/confined-open.ts, like every other file):
 * - a boot directory entry is confined to the boot directory: a symlink that leads out of it (a netboot
 *   tarball's `passwd -> /etc/passwd`) is no boot file, and the scan names it so the operator can fix it;
 *   a symlink that stays inside keeps working;
 * - a package path entry is the distribution's (root-only directories): its link is followed once, here
 *   (Debian's /usr/lib/ipxe/ipxe.efi -> /boot/ipxe.efi), and the file is confined to the directory it
 *   resolved to.
 */
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { signedChainPackagePaths } from '../boot/boot-binaries.js';
import { isInside, type ConfinedFile } from './files/confined-open.js';

/** Package paths, most specific first (Debian/Ubuntu, then Fedora/RHEL). */
export const packageBootPaths: readonly string[] = [
  '/usr/lib/ipxe',
  '/usr/lib/PXELINUX',
  '/usr/lib/syslinux/modules/bios',
  '/usr/share/ipxe',
  '/usr/share/syslinux',
];

/**
 * Single files of other packages, served under a name (the first existing path wins): memtest86+ installs its
 * images into /boot, a directory whose other files (kernels, configs, GRUB's settings) have no business on
 * the boot network.
 */
export const packageBootFiles: Readonly<Record<string, readonly string[]>> = {
  ...signedChainPackagePaths,
  'memtest86+x64.bin': ['/boot/memtest86+x64.bin'],
  'memtest86+x64.efi': ['/boot/memtest86+x64.efi'],
  'memtest86+ia32.bin': ['/boot/memtest86+ia32.bin'],
  'memtest86+ia32.efi': ['/boot/memtest86+ia32.efi'],
};

export interface BootFileCatalog {
  readonly bootDir?: string;
  /** File name → where it is served from. */
  readonly files: ReadonlyMap<string, ConfinedFile>;
  readonly names: ReadonlySet<string>;
  /** Boot directory entries left out because they lead outside it: `name -> target`. */
  readonly escaping: readonly string[];
}

function listNames(dir: string): string[] {
  if (!existsSync(dir)) return [];
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function packageFiles(dir: string): Array<[string, ConfinedFile]> {
  const found: Array<[string, ConfinedFile]> = [];
  for (const name of listNames(dir)) {
    try {
      const real = realpathSync(join(dir, name));
      if (statSync(real).isFile()) found.push([name, { root: dirname(real), path: basename(real) }]);
    } catch {
      // A dangling link in a package directory is not a boot file.
    }
  }
  return found;
}

function bootDirFiles(bootDir: string, escaping: string[]): Array<[string, ConfinedFile]> {
  let rootReal: string;
  try {
    rootReal = realpathSync(bootDir);
  } catch {
    return [];
  }
  const found: Array<[string, ConfinedFile]> = [];
  for (const name of listNames(bootDir)) {
    const path = join(bootDir, name);
    try {
      const real = realpathSync(path);
      if (!isInside(rootReal, real)) {
        escaping.push(`${name} -> ${real}`);
        continue;
      }
      if (statSync(real).isFile()) found.push([name, { root: bootDir, path: name }]);
    } catch {
      // A dangling link is not a boot file either (asked for, it is not found).
    }
  }
  return found;
}

/**
 * Package files served under a name of their own: the signed binaries under the names shim and the firmware
 * ask for (`shimx64.efi`, not `shimx64.efi.signed`), memtest86+'s images. Package files like the rest, followed
 * once and confined to where they resolved.
 */
function namedPackageFiles(aliases: Readonly<Record<string, readonly string[]>>): Array<[string, ConfinedFile]> {
  const found: Array<[string, ConfinedFile]> = [];
  for (const [name, candidates] of Object.entries(aliases)) {
    for (const candidate of candidates) {
      try {
        const real = realpathSync(candidate);
        if (statSync(real).isFile()) {
          found.push([name, { root: dirname(real), path: basename(real) }]);
          break;
        }
      } catch {
        // not installed here
      }
    }
  }
  return found;
}

export function scanBootFiles(
  bootDir?: string,
  searchPaths: readonly string[] = packageBootPaths,
  aliases: Readonly<Record<string, readonly string[]>> = packageBootFiles,
): BootFileCatalog {
  const files = new Map<string, ConfinedFile>();
  const escaping: string[] = [];
  for (const [name, file] of namedPackageFiles(aliases)) files.set(name, file);
  for (const dir of [...searchPaths].reverse()) for (const [name, file] of packageFiles(dir)) files.set(name, file);
  if (bootDir) for (const [name, file] of bootDirFiles(bootDir, escaping)) files.set(name, file);
  return { ...(bootDir && { bootDir }), files, names: new Set(files.keys()), escaping };
}
