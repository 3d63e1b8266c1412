#!/usr/bin/env -S MALLOC_ARENA_MAX=1 node --max-semi-space-size=2
// Runs the compiled build (dist/, made by `npm run build`; `npm ci` and `npm pack` build it through `prepare`;
// a checkout whose sources changed since is rebuilt first).
//
// Why the young generation is capped at 2 MiB semi-spaces (V8's default grows them to 16 MiB): a scavenge's
// pause is the time to copy what survives it, and with 16 MiB of nursery a DHCP burst's records of machines
// survive in bulk. At 1000 DORA/s that pause set the tail: DISCOVER→OFFER p99 on the wire 1.8–2.8 ms
// (median 2.5) with the default, 0.7–2.6 ms (median 1.2) with 2 MiB, for the same CPU and ~30 MiB less RSS
// under load; 1 MiB was no better at 1000/s and worse at 4000/s
// (docs/performance.md, "A 2 MiB young generation, adopted"). V8 sizes the heap when it makes it, before any
// of our code runs, so the flag has to be on node's command line: this line, which an installed `pxedeck`
// and the systemd unit run through. `node bin/pxedeck.js` runs with V8's default.
//
// Why MALLOC_ARENA_MAX=1: glibc gives each thread that allocates at once a malloc arena of its own and keeps
// every one for good, and pxedeck's threads (V8's helpers, libuv's pool, the TFTP transfer thread) each kept
// one at its high-water mark. With one arena, the TFTP load's peak fell from 84.5 to 78.2 MiB and what stayed
// after it from +9.5 to +2.7 MiB over idle, the HTTP rounds' peaks by ~6 MiB, for the same throughput (two
// runs each; docs/performance.md, Memory). glibc reads the variable at its first allocation, before any of
// our code runs (set later through mallopt, it changed nothing), so it is set on this line too.
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
