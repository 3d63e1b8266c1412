/**
 * How the tests and benches start pxedeck: with the node flags the installed command's `#!` line gives it
 * (bin/pxedeck.js), so a lab run has the heap a technician's run has, plus whatever a bench adds after
 * them (V8 takes the last value of a flag given twice).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const pxedeckBin = join(fileURLToPath(new URL('../../', import.meta.url)), 'bin', 'pxedeck.js');

/** The `#!` line's parts: `#!/usr/bin/env -S [NAME=value ...] node [flags]`; throws on any other line. */
function commandParts(bin: string): { readonly environment: Record<string, string>; readonly nodeFlags: string[] } {
  const firstLine = readFileSync(bin, 'utf8').split('\n', 1)[0] ?? '';
  const match = /^#!\/usr\/bin\/env (?:-S )?((?:[A-Z_][A-Z0-9_]*=\S* +)*)node((?: +\S+)*) *$/.exec(firstLine);
  if (!match) throw new Error(`${bin}: the first line should be "#!/usr/bin/env -S [NAME=value ...] node [flags]", it is: ${firstLine}`);
  const environment = Object.fromEntries((match[1] ?? '').split(' ').filter(Boolean).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
  return { environment, nodeFlags: (match[2] ?? '').split(' ').filter(Boolean) };
}

/** The flags after `node` on the command's first line. */
export function commandNodeFlags(bin = pxedeckBin): string[] {
  return commandParts(bin).nodeFlags;
}

/** The variables the command's first line sets for node (glibc reads MALLOC_ARENA_MAX before any of our code runs). */
export function commandEnvironment(bin = pxedeckBin): Record<string, string> {
  return commandParts(bin).environment;
}

/** Arguments for `process.execPath` that run pxedeck as its command does, `extraNodeArgs` after its own flags. */
function pxedeckNodeArgs(extraNodeArgs: readonly string[] = [], bin = pxedeckBin): string[] {
  return [...commandNodeFlags(bin), ...extraNodeArgs, bin];
}

/**
 * The whole command line that runs pxedeck as its command does, variables included: `env NAME=value … node
 * [flags] bin/pxedeck.js`. `env` executes node in its own place, so the process's PID is node's. `bin`: another
 * build's or an installed command's script, run with its own line.
 */
export function pxedeckCommand(extraNodeArgs: readonly string[] = [], bin = pxedeckBin): string[] {
  const assignments = Object.entries(commandEnvironment(bin)).map(([name, value]) => `${name}=${value}`);
  return ['env', ...assignments, process.execPath, ...pxedeckNodeArgs(extraNodeArgs, bin)];
}
