#!/usr/bin/env node
// Runs the compiled build (dist/, made by `npm run build`; `npm ci` and `npm pack` build it through `prepare`;
// a checkout whose sources changed since is rebuilt first).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ensureFreshBuild } from './fresh-build.js';

const root = fileURLToPath(new URL('..', import.meta.url));
try {
  ensureFreshBuild(root);
} catch (error) {
  process.stderr.write(`pxedeck: ${error.message}\n`);
  process.exit(1);
}
const entry = new URL('../dist/src/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(`pxedeck: the build is missing (${entry.pathname}); fix: run "npm run build" in ${root}\n`);
  process.exit(1);
}
const { main } = await import(entry.href);
const code = await main(process.argv.slice(2));
process.exitCode = code;
// Servers are closed by now; should a handle still linger, do not hang a script waiting on us.
setTimeout(() => process.exit(code), 2000).unref();
