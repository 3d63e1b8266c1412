/**
 * The ISOs of one run: catalogued before the planners start (quick mode's --iso decides the default
 * target), told to the operator (what each boots and how, or why not), and looked at again every
 * RESCAN_MS so an ISO copied into the boot directory or isos/ becomes a profile without a restart.
 */
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BootTarget } from '../boot/boot-target.js';
import type { CliOptions } from '../cli/args.js';
import { scanBootFiles } from '../servers/boot-files.js';
import { underlyingRanges } from '../servers/http/slice-body.js';
import type { VirtualFile } from '../servers/tftp/server.js';
import { openIsoLibrary, type IsoLibrary } from '../state/iso-library.js';
import type { ProfileLibrary } from '../state/profile-library.js';
import { StartupError } from './operator-error.js';

export const RESCAN_MS = 15_000;

export interface RuntimeIsos {
  readonly library: IsoLibrary;
  /** Quick mode's default target: the --iso file's profile (its id as the merge gave it). */
  readonly quickTarget?: BootTarget;
  /**
   * A TFTP path inside an ISO (`iso/<id>/<path>`, what GRUB on the Secure Boot chain asks for) as the
   * range of the image it is; undefined for other paths, null when it is not there (or not one range).
   */
  tftpFile(path: string): Promise<VirtualFile> | undefined;
  /** Rescans every RESCAN_MS; `onChange` runs when what the ISOs offer changed. Returns the stop function. */
  watch(base: () => ProfileLibrary, onChange: () => void): () => void;
}

export async function openRuntimeIsos(options: {
  readonly cli: CliOptions;
  readonly dataDir: string;
  readonly bootDir: string;
  readonly base: ProfileLibrary;
  readonly notice: (level: 'info' | 'warning', message: string) => void;
}): Promise<RuntimeIsos> {
  const { cli, notice } = options;
  // The catalog names an --iso file by its real path (a link is followed once, then confined there).
  const isoPath = cli.iso ? realPathOrResolved(cli.iso) : undefined;
  const library = openIsoLibrary({
    dataDir: options.dataDir,
    bootDir: options.bootDir,
    ...(cli.iso && { files: [resolve(cli.iso)] }),
    ...(isoPath && cli.cmdline !== undefined && { extraArgs: new Map([[isoPath, cli.cmdline]]) }),
    bootFiles: () => scanBootFiles(options.bootDir).names,
  });
  await library.refresh();
  const told = new Set<string>();
  const tell = (base: ProfileLibrary): boolean => {
    const lines = library.describe(base);
    let changed = lines.length !== told.size;
    for (const info of lines) {
      if (told.has(info.line)) continue;
      changed = true;
      notice(info.profileId ? 'info' : 'warning', `ISO ${info.line}`);
    }
    told.clear();
    for (const info of lines) told.add(info.line);
    return changed;
  };
  tell(options.base);
  let quickTarget: BootTarget | undefined;
  if (isoPath) {
    const info = library.describe(options.base).find((item) => item.entry.path === isoPath);
    if (!info?.profileId) {
      await library.close();
      throw new StartupError(`--iso ${cli.iso}: ${info?.line ?? 'not found'}`);
    }
    quickTarget = { kind: 'profile', profile: info.profileId };
  }
  return {
    library,
    ...(quickTarget && { quickTarget }),
    tftpFile(path) {
      const match = /^\/?iso\/(.+)$/.exec(path);
      if (!match) return undefined;
      return library.resolve(match[1]!.split('/')).then((answer): VirtualFile => {
        if (answer.kind !== 'slice') return null;
        const { slice } = answer;
        const ranges = underlyingRanges(slice.pieces, 0, slice.size - 1);
        if (ranges.length > 1) return null;
        return { within: slice.file, offset: ranges[0]?.offset ?? 0, length: slice.size, image: slice.image };
      });
    },
    watch(base, onChange) {
      const timer = setInterval(() => {
        void library.refresh().then(() => {
          if (tell(base())) onChange();
        });
      }, RESCAN_MS);
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}

function realPathOrResolved(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}
