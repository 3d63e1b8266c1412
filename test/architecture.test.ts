// Imports point down only: protocol ← boot ← servers ← state ← components, and ← runtime (the servers' wiring);
// main.tsx composes the runtime, the console and the command line.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const layers = ['src/protocol', 'src/boot', 'src/servers', 'src/state', 'components', 'src/runtime'] as const;
const allowedBelow: Record<string, readonly string[]> = {
  'src/protocol': ['src/protocol'],
  'src/boot': ['src/protocol', 'src/boot'],
  'src/servers': ['src/protocol', 'src/boot', 'src/servers'],
  'src/state': ['src/protocol', 'src/boot', 'src/servers', 'src/state'],
  components: ['src/protocol', 'src/boot', 'src/state', 'components'],
  'src/runtime': ['src/protocol', 'src/boot', 'src/servers', 'src/state', 'src/runtime'],
};
/** The runtime takes the parsed command line (its options type and usage errors), nothing else of src/cli. */
const cliImportsAllowed: Record<string, readonly string[]> = { 'src/runtime': ['src/cli/args.ts'] };

function sourceFiles(dir: string): string[] {
  const full = join(root, dir);
  if (!existsSync(full)) return [];
  return readdirSync(full).flatMap((name) => {
    const path = join(full, name);
    if (statSync(path).isDirectory()) return sourceFiles(relative(root, path));
    return /\.(ts|tsx)$/.test(name) ? [relative(root, path)] : [];
  });
}

function layerOf(file: string): string | undefined {
  return layers.find((layer) => file === layer || file.startsWith(`${layer}/`));
}

describe('import direction', () => {
  for (const layer of layers) {
    it(`${layer} imports only from layers below it`, () => {
      const violations: string[] = [];
      for (const file of sourceFiles(layer)) {
        const text = readFileSync(join(root, file), 'utf8');
        for (const match of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)) {
          const target = relative(root, resolve(root, dirname(file), match[1]!));
          const targetLayer = layerOf(target);
          const allowedCli = cliImportsAllowed[layer]?.includes(target.replace(/\.js$/, '.ts')) ?? false;
          if (target.startsWith('src/main') || (target.startsWith('src/cli') && !allowedCli)) violations.push(`${file} → ${target}`);
          else if (targetLayer && !allowedBelow[layer]!.includes(targetLayer)) violations.push(`${file} → ${target}`);
        }
      }
      expect(violations).toEqual([]);
    });
  }
});
