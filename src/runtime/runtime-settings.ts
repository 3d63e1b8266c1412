/**
 * Where pxedeck keeps its state and which settings a run uses: settings.json with the command-line flags
 * over it, and the default boot target (quick mode's kernel when given).
 */
import { existsSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BootTarget } from '../boot/boot-target.js';
import { isoProfileId } from '../boot/iso/iso-profile.js';
import type { CliOptions } from '../cli/args.js';
import { openSettings, parseTargetSetting, type Settings } from '../state/settings.js';

/**
 * The package's root (where package.json and presets/ are), found from this module's own location so it
 * is the same from the sources (src/runtime/) and from the build (dist/src/runtime/), whatever the current
 * directory is.
 */
function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'presets'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`pxedeck's presets/ folder was not found above ${fileURLToPath(import.meta.url)}; reinstall pxedeck`);
    dir = parent;
  }
  return dir;
}

export const packageRoot = findPackageRoot();
export const presetsDir = join(packageRoot, 'presets');

export const defaultDataDir = join(homedir(), '.config', 'pxedeck');

export function dataDirOf(cli: Pick<CliOptions, 'dataDir'>): string {
  return resolve(cli.dataDir ?? defaultDataDir);
}

export function loadSettings(cli: CliOptions): Settings {
  const saved = openSettings(dataDirOf(cli)).load();
  return {
    ...saved,
    ...(cli.interface && { interface: cli.interface }),
    ...(cli.mode && { mode: cli.mode }),
    ...(cli.pool && { pool: cli.pool }),
    ...(cli.bootDir && { bootDir: cli.bootDir }),
    ...(cli.httpPort !== undefined && { httpPort: cli.httpPort }),
    ...(cli.raLifetime !== undefined && { raLifetime: cli.raLifetime }),
  };
}

/** A path as it really lies (links followed), or as given when it does not exist (yet). */
export function realOrResolved(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/**
 * Quick mode (`--kernel`, `--iso`) makes that kernel or ISO the default; otherwise the saved default target.
 * An ISO's profile id is its file's (the runtime corrects it if a YAML profile already has that id).
 */
export function defaultTargetOf(cli: CliOptions, settings: Settings): BootTarget {
  if (cli.iso) return { kind: 'profile', profile: isoProfileId(basename(cli.iso)) };
  if (cli.kernel) {
    // The real path: a kernel named through a link (/boot/vmlinuz) is served from where it lies.
    const local = (source: string) => (/^https?:\/\//i.test(source) ? source : realOrResolved(source));
    return { kind: 'inline', kernel: local(cli.kernel), initrds: (cli.initrds ?? []).map(local), cmdline: cli.cmdline ?? '' };
  }
  return parseTargetSetting(settings.defaultTarget)!;
}
