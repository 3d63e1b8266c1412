/**
 * Which bytes a file name means, for TFTP and HTTP alike: generated PXELINUX configs, the boot directory and
 * the distribution's package paths (the catalog), local files named by quick mode or `assign --kernel`, and
 * the presets' preseed and kickstart files.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { missingBinaryHint, optionalLookup, signedChain } from '../boot/boot-binaries.js';
import { grubBuiltinModules } from '../boot/grub-image.js';
import type { Mac } from '../protocol/mac.js';
import { scanBootFiles } from '../servers/boot-files.js';
import type { ConfinedFile } from '../servers/files/confined-open.js';
import type { TftpClient, VirtualFile } from '../servers/tftp/server.js';
import { grubBeaconMac, type BootPlanner } from '../state/boot-plans.js';

/** Binaries every boot path needs; a missing one is a warning that names its package. */
const expectedBinaries = ['undionly.kpxe', 'ipxe.efi', 'ipxe.lkrn', 'pxelinux.0', 'ldlinux.c32', signedChain.shim, signedChain.grub] as const;

export interface BootFileResolver {
  readonly bootDir: string;
  /** Names of the boot binaries on hand (boot dir and package paths). */
  binaries(): ReadonlySet<string>;
  /** The signed GRUB on hand has HTTP built in, so UEFI HTTP Boot can be given the signed chain. */
  readonly signedChainOverHttp: boolean;
  /** A TFTP path: a generated config, a catalog or local file, or null for the server's own root lookup. */
  resolveTftp(path: string, client: TftpClient): VirtualFile | Promise<VirtualFile>;
  readonly httpRoots: ReadonlyArray<{ readonly prefix: string; readonly dir: string }>;
  /** Files served by name at the HTTP root. */
  namedFiles(): ReadonlyMap<string, ConfinedFile>;
}

export interface BootFileResolverOptions {
  readonly bootDir: string;
  readonly presetsDir: string;
  readonly planner: BootPlanner;
  readonly warn: (message: string) => void;
  /** GRUB read its beacon: the machine is booting the kernel it loaded. */
  readonly onGrubBeacon?: (mac: Mac, ip: string) => void;
  /** An upstream source as a cached file, fetched first (the signed GRUB reads kernels by TFTP only). */
  readonly upstreamFile?: (url: string) => Promise<ConfinedFile>;
}

function readsHttp(grub: ConfinedFile | undefined, warn: (message: string) => void): boolean {
  if (!grub) return false;
  const path = join(grub.root, grub.path);
  try {
    return grubBuiltinModules(readFileSync(path)).has('http');
  } catch (error) {
    warn(`cannot read ${path} to see whether it has HTTP: ${(error as Error).message}`);
    return false;
  }
}

export function createBootFileResolver({ bootDir, presetsDir, planner, warn, onGrubBeacon, upstreamFile }: BootFileResolverOptions): BootFileResolver {
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
    signedChainOverHttp: readsHttp(catalog.files.get(signedChain.grub), warn),
    resolveTftp: (path, client) => {
      const config = planner.renderPxelinux(path, client.mac, client.address) ?? planner.renderGrub(path, client.mac, client.address);
      if (config !== null) return config;
      const beacon = grubBeaconMac(path);
      if (beacon) {
        onGrubBeacon?.(beacon, client.address);
        return '# pxedeck: booted\n';
      }
      const name = path.replace(/^\/+/, '');
      const file = catalog.files.get(name) ?? planner.localFiles().get(name);
      if (file) return file;
      const upstream = /^upstream\/([0-9a-f]{16})\/[^/]+$/.exec(name);
      const url = upstream ? planner.upstreamUrl(upstream[1]!) : undefined;
      if (url && upstreamFile) return upstreamFile(url);
      const optional = optionalLookup(name);
      // The operator may have put such a file in the boot directory: then the root lookup serves it.
      return optional && !existsSync(join(bootDir, name)) ? { optional } : null;
    },
    httpRoots: [
      { prefix: '/files', dir: bootDir },
      { prefix: '/files/preseed', dir: join(presetsDir, 'files', 'preseed') },
      { prefix: '/files/kickstart', dir: join(presetsDir, 'files', 'kickstart') },
    ],
    namedFiles: () => new Map([...catalog.files, ...planner.localFiles()]),
  };
}
