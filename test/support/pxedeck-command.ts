/**
 * How the tests and benches start pxedeck: with the node flags the installed command's `#!` line gives it
 * (bin/pxedeck.js), so a lab run has the heap a technician's run has, plus whatever a bench adds after
 * them (V8 takes the last value of a flag given twice).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const pxedeckBin = join(fileURLToPath(new URL('../../', import.meta.url)), 'bin', 'pxedeck.js');

/** The flags after `node` on the command's first line; throws if that line is not `#!/usr/bin/env [-S] node …`. */
export function commandNodeFlags(bin = pxedeckBin): string[] {
  const firstLine = readFileSync(bin, 'utf8').split('\n', 1)[0] ?? '';
  const match = /^#!\/usr\/bin\/env (?:-S )?node((?: +\S+)*) *$/.exec(firstLine);
  if (!match) throw new Error(`${bin}: the first line should be "#!/usr/bin/env -S node [flags]", it is: ${firstLine}`);
  return (match[1] ?? '').split(' ').filter(Boolean);
}

/** Arguments for `process.execPath` that run pxedeck as its command does, `extraNodeArgs` after its own flags. */
export function pxedeckNodeArgs(extraNodeArgs: readonly string[] = []): string[] {
  return [...commandNodeFlags(), ...extraNodeArgs, pxedeckBin];
}
