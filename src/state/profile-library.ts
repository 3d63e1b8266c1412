/**
 * Loads profiles and menus: the shipped presets, then the user's own in the data dir (same id wins).
 * A broken file is reported with file, field and fix; every other file still loads.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseMenu, parseProfile, type Menu, type Parsed, type Profile } from '../boot/profile.js';

export interface LibraryProblem {
  readonly file: string;
  readonly field: string;
  readonly message: string;
  readonly fix: string;
}

export interface ProfileLibrary {
  readonly profiles: ReadonlyMap<string, Profile>;
  readonly menus: ReadonlyMap<string, Menu>;
  readonly problems: readonly LibraryProblem[];
}

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** The library files of one profiles/ or menus/ folder, in load order (by name); none if it does not exist. */
function libraryFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .filter((name) => EXTENSIONS.has(extname(name).toLowerCase()))
    .map((name) => join(dir, name));
}

function loadDir<T>(dir: string, parse: (id: string, raw: unknown) => Parsed<T>, into: Map<string, T>, problems: LibraryProblem[]): void {
  for (const file of libraryFiles(dir)) {
    const extension = extname(file).toLowerCase();
    const id = basename(file, extname(file));
    let raw: unknown;
    try {
      const text = readFileSync(file, 'utf8');
      raw = extension === '.json' ? JSON.parse(text) : parseYaml(text, { prettyErrors: true });
    } catch (error) {
      problems.push({ file, field: '(file)', message: `cannot be parsed: ${(error as Error).message.split('\n')[0]}`, fix: `correct the ${extension === '.json' ? 'JSON' : 'YAML'} syntax` });
      continue;
    }
    const parsed = parse(id, raw);
    if (parsed.ok) into.set(id, parsed.value);
    else for (const problem of parsed.problems) problems.push({ file, ...problem });
  }
}

/** `presetsDir` holds profiles/ and menus/; so does each user dir, loaded after it. */
export function loadProfileLibrary(presetsDir: string, userDirs: readonly string[] = []): ProfileLibrary {
  const profiles = new Map<string, Profile>();
  const menus = new Map<string, Menu>();
  const problems: LibraryProblem[] = [];
  for (const dir of [presetsDir, ...userDirs]) {
    loadDir(join(dir, 'profiles'), parseProfile, profiles, problems);
    loadDir(join(dir, 'menus'), parseMenu, menus, problems);
  }
  for (const menu of menus.values()) {
    for (const item of menu.items) {
      if (!profiles.has(item.profile)) {
        problems.push({ file: `menu ${menu.id}`, field: 'items', message: `lists "${item.profile}", which no profile file defines`, fix: `add profiles/${item.profile}.yaml or remove the item` });
      }
    }
  }
  return { profiles, menus, problems };
}

/**
 * Each library file's name, size and modification time, in load order: what decides whether a load would
 * differ. Undefined while a file is fresh: file times advance in clock ticks, so a second edit of the same
 * size within one tick would look like none.
 */
function filesFingerprint(presetsDir: string, userDirs: readonly string[]): string | undefined {
  const freshAfter = Date.now() - 2000;
  const parts: string[] = [];
  for (const dir of [presetsDir, ...userDirs]) {
    for (const file of [...libraryFiles(join(dir, 'profiles')), ...libraryFiles(join(dir, 'menus'))]) {
      try {
        const { size, mtimeMs, ino } = statSync(file);
        if (mtimeMs > freshAfter) return undefined;
        parts.push(`${file}\0${size}\0${mtimeMs}\0${ino}`);
      } catch {
        parts.push(`${file}\0gone`);
      }
    }
  }
  return parts.join('\n');
}

/**
 * `loadProfileLibrary` for a process that asks again and again (the ISO rescan every 15 s, each assignment
 * change): the files are parsed again only when one of them was added, removed or rewritten. Parsing the
 * presets' YAML holds the event loop ~15 ms, and at 4000 DHCP exchanges a second that was ~60 late answers
 * every rescan; a look at the files' sizes and times is a few hundred microseconds.
 */
export function profileLibraryLoader(presetsDir: string, userDirs: readonly string[] = []): () => ProfileLibrary {
  let loadedFrom: string | undefined;
  let library: ProfileLibrary | undefined;
  return () => {
    const fingerprint = filesFingerprint(presetsDir, userDirs);
    if (library === undefined || fingerprint === undefined || fingerprint !== loadedFrom) {
      library = loadProfileLibrary(presetsDir, userDirs);
      loadedFrom = fingerprint;
    }
    return library;
  };
}

export function formatProblem(problem: LibraryProblem): string {
  return `${problem.file}: ${problem.field} ${problem.message}; fix: ${problem.fix}`;
}
