// The CLI runs the compiled build (bin/pxedeck.js → dist/): tests that start it must see the sources as they
// are now. The build is skipped when it is newer than every source file (a unit-test run then costs nothing).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');

function newestSourceMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMtime(path));
    else if (/\.tsx?$/.test(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

export default function buildOnce(): void {
  const buildInfo = join(root, 'dist', '.tsbuildinfo');
  const inputs = ['src', 'components'].map((dir) => newestSourceMtime(join(root, dir)));
  const configs = ['tsconfig.json', 'tsconfig.build.json', 'package.json'].map((file) => statSync(join(root, file)).mtimeMs);
  if (existsSync(buildInfo) && statSync(buildInfo).mtimeMs > Math.max(...inputs, ...configs)) return;
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
  // tsc leaves its build info alone when no source really changed (a checkout only touched them): mark it fresh.
  const now = new Date();
  utimesSync(buildInfo, now, now);
}
