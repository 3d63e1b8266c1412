// The CLI runs the compiled build (bin/pxedeck.js → dist/): tests that start it must see the sources as they
// are now. The same freshness rule as the checkout's bin: rebuilt only when a source is newer than the build.
import { resolve } from 'node:path';
import { ensureFreshBuild } from '../bin/fresh-build.js';

export default function buildOnce(): void {
  ensureFreshBuild(resolve(import.meta.dirname, '..'));
}
