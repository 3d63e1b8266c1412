/**
 * The data dir, private: created 0700, and on every start an existing one that others could read (an
 * older pxedeck made it 0755, its files 0644) is tightened, with a notice saying what changed. pxedeck's own
 * files in it (settings, assignments, leases, the event log, the cache, reports, the token) become
 * owner-only; the operator's boot files and ISOs (boot/, isos/) keep their modes: the 0700 directory above
 * them already keeps other users out.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { PRIVATE_DIR_MODE } from '../servers/files/private-files.js';

const OPERATOR_CONTENT = new Set(['boot', 'isos']);
/** The cache and the event log are one level deep; deeper trees are not pxedeck's. */
const MAX_DEPTH = 3;

const octal = (mode: number) => (mode & 0o777).toString(8).padStart(4, '0');

function statOf(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/** Group and other bits cleared; returns whether it had any. */
function tighten(path: string, stats: Stats): boolean {
  if ((stats.mode & 0o077) === 0) return false;
  try {
    chmodSync(path, stats.mode & 0o700);
    return true;
  } catch {
    return false;
  }
}

function tightenTree(dir: string, depth: number, changed: string[], prefix: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (depth === 0 && OPERATOR_CONTENT.has(name)) continue;
    const path = join(dir, name);
    const stats = statOf(path);
    if (!stats || stats.isSymbolicLink()) continue;
    if (tighten(path, stats)) changed.push(`${prefix}${name}`);
    if (stats.isDirectory() && depth + 1 < MAX_DEPTH) tightenTree(path, depth + 1, changed, `${prefix}${name}/`);
  }
}

/** Creates or tightens `dataDir`; returns notices for the operator (empty when nothing had to change). */
export function makeDataDirPrivate(dataDir: string): string[] {
  const before = statOf(dataDir);
  if (!before) {
    mkdirSync(dataDir, { recursive: true, mode: PRIVATE_DIR_MODE });
    return [];
  }
  const notices: string[] = [];
  if (before.isDirectory() && tighten(dataDir, before)) {
    notices.push(`data dir ${dataDir} was readable by other users (mode ${octal(before.mode)}): now ${octal(before.mode & 0o700)}`);
  }
  const changed: string[] = [];
  tightenTree(dataDir, 0, changed, '');
  if (changed.length > 0) {
    const shown = changed.slice(0, 5).join(', ');
    notices.push(`${changed.length} of pxedeck's files in ${dataDir} were readable by other users, now owner-only: ${shown}${changed.length > 5 ? ', …' : ''}`);
  }
  return notices;
}
