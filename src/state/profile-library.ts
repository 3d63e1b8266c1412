/**
 * Loads profiles and menus: the shipped presets, then the user's own in the data dir (same id wins).
 * A broken file is reported with file, field and fix; every other file still loads.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
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

function loadDir<T>(dir: string, parse: (id: string, raw: unknown) => Parsed<T>, into: Map<string, T>, problems: LibraryProblem[]): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir).sort()) {
    const extension = extname(name).toLowerCase();
    if (!EXTENSIONS.has(extension)) continue;
    const file = join(dir, name);
    const id = basename(name, extname(name));
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

export function formatProblem(problem: LibraryProblem): string {
  return `${problem.file}: ${problem.field} ${problem.message}; fix: ${problem.fix}`;
}
