// Imports point down only: protocol ← boot ← servers ← state ← components, and main.tsx wires them.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const layers = ['src/protocol', 'src/boot', 'src/servers', 'src/state', 'components'] as const;
const allowedBelow: Record<string, readonly string[]> = {
  'src/protocol': ['src/protocol'],
  'src/boot': ['src/protocol', 'src/boot'],
  'src/servers': ['src/protocol', 'src/boot', 'src/servers'],
  'src/state': ['src/protocol', 'src/boot', 'src/servers', 'src/state'],
  components: ['src/protocol', 'src/boot', 'src/state', 'components'],
};

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
          if (target.startsWith('src/main') || target.startsWith('src/cli')) violations.push(`${file} → ${target}`);
          else if (targetLayer && !allowedBelow[layer]!.includes(targetLayer)) violations.push(`${file} → ${target}`);
        }
      }
      expect(violations).toEqual([]);
    });
  }
});
