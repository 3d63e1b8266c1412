// A checkout runs its own build (dist/): when the sources are newer than that build (a `git pull`, an edit, a
// fresh clone built by nobody yet), it is rebuilt before it runs, so a checkout never runs yesterday's code or
// fails for want of `npm run build`. An installed package ships dist/ without the sources: nothing to do there.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';

function newestSourceMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMtime(path));
    else if (/\.tsx?$/.test(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** True when `root` holds the sources and its build is missing or older than any of them (or the configs). */
export function buildIsStale(root) {
  if (!existsSync(join(root, 'src', 'main.tsx'))) return false;
  const buildInfo = join(root, 'dist', '.tsbuildinfo');
  if (!existsSync(buildInfo)) return true;
  const inputs = ['src', 'components'].map((dir) => newestSourceMtime(join(root, dir)));
  const configs = ['tsconfig.json', 'tsconfig.build.json', 'package.json'].map((file) => statSync(join(root, file)).mtimeMs);
  return statSync(buildInfo).mtimeMs <= Math.max(...inputs, ...configs);
}

/**
 * Builds `root` when its build is stale. The compiler's output goes to stderr (stdout may be a JSON event
 * stream). Throws when the compiler is not installed or fails, with the command that fixes it.
 */
export function ensureFreshBuild(root) {
  if (!buildIsStale(root)) return;
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const fix = `run "npm ci && npm run build" in ${root}`;
  if (!existsSync(tsc)) throw new Error(`the build in ${join(root, 'dist')} is missing or older than the sources, and the compiler is not installed; fix: ${fix}`);
  try {
    execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: ['ignore', 2, 2] });
  } catch (error) {
    throw new Error(`the build in ${join(root, 'dist')} is older than the sources and rebuilding it failed (${error.message.split('\n')[0]}); fix: ${fix}`);
  }
  // tsc leaves its build info alone when no source really changed (a checkout only touched them): mark it fresh.
  const now = new Date();
  utimesSync(join(root, 'dist', '.tsbuildinfo'), now, now);
}
