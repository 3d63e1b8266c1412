/**
 * Where boot binaries come from: the operator's boot directory first, then the paths Debian, Ubuntu and
 * Fedora packages install them to. Only plain files count; the catalog maps a file name to its real path.
 */
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Package paths, most specific first (Debian/Ubuntu, then Fedora/RHEL). */
export const packageBootPaths: readonly string[] = [
  '/usr/lib/ipxe',
  '/usr/lib/PXELINUX',
  '/usr/lib/syslinux/modules/bios',
  '/usr/share/ipxe',
  '/usr/share/syslinux',
];

export interface BootFileCatalog {
  readonly bootDir?: string;
  /** File name → absolute real path. */
  readonly files: ReadonlyMap<string, string>;
  readonly names: ReadonlySet<string>;
}

function plainFiles(dir: string): Array<[string, string]> {
  if (!existsSync(dir)) return [];
  const found: Array<[string, string]> = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    try {
      if (statSync(path).isFile()) found.push([name, realpathSync(path)]);
    } catch {
      // A dangling link in a package directory is not a boot file.
    }
  }
  return found;
}

export function scanBootFiles(bootDir?: string, searchPaths: readonly string[] = packageBootPaths): BootFileCatalog {
  const files = new Map<string, string>();
  for (const dir of [...searchPaths].reverse()) for (const [name, path] of plainFiles(dir)) files.set(name, path);
  if (bootDir) for (const [name, path] of plainFiles(bootDir)) files.set(name, path);
  return { ...(bootDir && { bootDir }), files, names: new Set(files.keys()) };
}
