/**
 * ISOs as profiles: the ISO catalog (src/servers/iso) over the boot directory, the data dir's isos/ folder
 * and the files named with --iso, turned into profiles that join the YAML ones. A YAML profile keeps its id;
 * an ISO whose name collides gets "-iso" added. An ISO that cannot be network-booted is a library problem
 * that names the file and says why.
 */
import { join } from 'node:path';
import { isoProfile, isoProfileId } from '../boot/iso/iso-profile.js';
import { firmwareSummary } from '../boot/iso/iso-profile.js';
import type { Profile } from '../boot/profile.js';
import { createIsoCatalog, type IsoCatalog, type IsoCatalogEntry } from '../servers/iso/catalog.js';
import type { SliceAnswer } from '../servers/http/slice-body.js';
import type { LibraryProblem, ProfileLibrary } from './profile-library.js';

export interface IsoLibraryOptions {
  readonly dataDir: string;
  readonly bootDir: string;
  /** `--iso` files (catalogued whatever their name). */
  readonly files?: readonly string[];
  /** Extra kernel arguments per ISO path (quick mode's --cmdline), the default of its extra_args. */
  readonly extraArgs?: ReadonlyMap<string, string>;
  readonly bootFiles: () => ReadonlySet<string>;
}

export interface IsoProfileInfo {
  readonly entry: IsoCatalogEntry;
  /** The profile id, when the ISO can be booted. */
  readonly profileId?: string;
  /** What was recognised and how it boots, or why it cannot: one line for the console. */
  readonly line: string;
}

export interface IsoLibrary {
  refresh(): Promise<void>;
  /** The YAML library with the ISO profiles added, and the ISOs' own problems. */
  merge(base: ProfileLibrary): ProfileLibrary;
  /** Each ISO with its profile id and console line, as of the last merge. */
  describe(base: ProfileLibrary): readonly IsoProfileInfo[];
  resolve(rest: readonly string[]): Promise<SliceAnswer>;
  close(): Promise<void>;
}

export function isoDirectories(dataDir: string, bootDir: string): string[] {
  return [bootDir, join(dataDir, 'isos')];
}

export function openIsoLibrary(options: IsoLibraryOptions): IsoLibrary {
  const catalog: IsoCatalog = createIsoCatalog({
    directories: isoDirectories(options.dataDir, options.bootDir),
    ...(options.files && { files: options.files }),
    bootFiles: options.bootFiles,
    idFor: isoProfileId,
  });

  const describe = (base: ProfileLibrary): IsoProfileInfo[] =>
    catalog.entries().map((entry) => {
      const { recognition } = entry;
      if (!recognition.ok) {
        const what = [recognition.distribution, recognition.version].filter(Boolean).join(' ');
        return { entry, line: `${entry.fileName}${what ? ` (${what})` : ''} cannot be network-booted: ${recognition.reason}` };
      }
      const profileId = base.profiles.has(entry.id) ? `${entry.id}-iso` : entry.id;
      return { entry, profileId, line: `${entry.fileName} → profile ${profileId}: ${recognition.plan.summary} (${firmwareSummary(recognition.plan)})` };
    });

  return {
    refresh: () => catalog.refresh(),
    describe,
    merge(base) {
      const profiles = new Map<string, Profile>(base.profiles);
      const problems: LibraryProblem[] = [...base.problems];
      for (const info of describe(base)) {
        const { entry } = info;
        if (!entry.recognition.ok || !info.profileId) {
          problems.push({ file: entry.path, field: '(iso)', message: info.line.slice(entry.fileName.length + 1), fix: 'see docs/iso-boot.md for the layouts pxedeck boots' });
          continue;
        }
        const profile = isoProfile({ id: entry.id, fileName: entry.fileName, plan: entry.recognition.plan });
        const extra = options.extraArgs?.get(entry.path);
        profiles.set(info.profileId, { ...profile, id: info.profileId, variables: { ...profile.variables, ...(extra !== undefined && { extra_args: extra }) } });
      }
      return { profiles, menus: base.menus, problems };
    },
    resolve: (rest) => catalog.resolve(rest),
    close: () => catalog.close(),
  };
}
