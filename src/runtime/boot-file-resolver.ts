/**
 * Which bytes a file name means, for TFTP and HTTP alike: generated PXELINUX configs, the boot directory and
 * the distribution's package paths (the catalog), local files named by quick mode or `assign --kernel`, and
 * the presets' preseed and kickstart files.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { missingBinaryHint } from '../boot/boot-binaries.js';
import { scanBootFiles } from '../servers/boot-files.js';
import type { ConfinedFile } from '../servers/files/confined-open.js';
import type { TftpClient, VirtualFile } from '../servers/tftp/server.js';
import type { BootPlanner } from '../state/boot-plans.js';

/** Binaries every boot path needs; a missing one is a warning that names its package. */
const expectedBinaries = ['undionly.kpxe', 'ipxe.efi', 'ipxe.lkrn', 'pxelinux.0', 'ldlinux.c32'] as const;

export interface BootFileResolver {
  readonly bootDir: string;
  /** Names of the boot binaries on hand (boot dir and package paths). */
  binaries(): ReadonlySet<string>;
  /** A TFTP path: a generated config, a catalog or local file, or null for the server's own root lookup. */
  resolveTftp(path: string, client: TftpClient): VirtualFile | null;
  readonly httpRoots: ReadonlyArray<{ readonly prefix: string; readonly dir: string }>;
  /** Files served by name at the HTTP root. */
  namedFiles(): ReadonlyMap<string, ConfinedFile>;
}

export interface BootFileResolverOptions {
  readonly bootDir: string;
  readonly presetsDir: string;
  readonly planner: BootPlanner;
  readonly warn: (message: string) => void;
}

export function createBootFileResolver({ bootDir, presetsDir, planner, warn }: BootFileResolverOptions): BootFileResolver {
  mkdirSync(bootDir, { recursive: true });
  const catalog = scanBootFiles(bootDir);
  for (const file of expectedBinaries) if (!catalog.names.has(file)) warn(missingBinaryHint(file));
  if (catalog.escaping.length > 0) {
    warn(
      `not served: ${catalog.escaping.join(', ')} — ${catalog.escaping.length === 1 ? 'this link leads' : 'these links lead'} out of the boot directory ${bootDir}; ` +
        'fix: copy the file into it (links that stay inside it work), or name it with --kernel/--initrd',
    );
  }
  return {
    bootDir,
    binaries: () => catalog.names,
    resolveTftp: (path, client) => {
      const config = planner.renderPxelinux(path, client.mac, client.address);
      if (config !== null) return config;
      const name = path.replace(/^\/+/, '');
      const file = catalog.files.get(name) ?? planner.localFiles().get(name);
      return file ?? null;
    },
    httpRoots: [
      { prefix: '/files', dir: bootDir },
      { prefix: '/files/preseed', dir: join(presetsDir, 'files', 'preseed') },
      { prefix: '/files/kickstart', dir: join(presetsDir, 'files', 'kickstart') },
    ],
    namedFiles: () => new Map([...catalog.files, ...planner.localFiles()]),
  };
}
