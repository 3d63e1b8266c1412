/** A V8 .cpuprofile (node --cpu-prof) summed up: busy time, and where it goes by function and by file. */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** Sampled time not spent idle, in µs. */
export function busyMicros(file: string): number {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const idle = new Set(profile.nodes.filter((node) => node.callFrame.functionName === '(idle)').map((node) => node.id));
  return profile.samples.reduce((sum, id, i) => sum + (idle.has(id) ? 0 : (profile.timeDeltas[i] ?? 0)), 0);
}

/** Self and inclusive time per function from a .cpuprofile, the top entries by inclusive time. */
export function summariseProfile(file: string): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const name = (node: ProfileNode) => {
    const url = node.callFrame.url.replace(/^file:\/\//, '').replace(/.*\/(node_modules\/)/, '$1').replace(/.*\/work\/main\//, '');
    return `${node.callFrame.functionName || '(anonymous)'} ${url ? `${url}:${node.callFrame.lineNumber + 1}` : ''}`.trim();
  };
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    self.set(name(node), (self.get(name(node)) ?? 0) + us);
    // Each sample counts once per distinct function on its stack (recursion not double counted).
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const key = name(byId.get(at)!);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + us);
    }
  }
  const pct = (us: number) => `${((us / total) * 100).toFixed(1).padStart(5)} %`;
  const idle = self.get('(idle)') ?? 0;
  console.log(`\nCPU profile ${file}: ${(total / 1e6).toFixed(1)} s sampled, ${pct(idle).trim()} idle`);
  console.log('Top by self time:');
  for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${pct(us)}  ${key}`);
  const byFile = new Map<string, number>();
  for (const [key, us] of self) {
    const file = key.startsWith('(') || !key.includes(' ') ? key : key.slice(key.lastIndexOf(' ') + 1).replace(/:\d+$/, '');
    byFile.set(file, (byFile.get(file) ?? 0) + us);
  }
  console.log('Self time by file:');
  for (const [file, us] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${pct(us)}  ${file}`);
  console.log('Top by inclusive time (own code and its callees):');
  const interesting = [...inclusive]
    .filter(([key]) => !/^\((root|program|idle|garbage collector)\)/.test(key))
    .sort((a, b) => b[1] - a[1])
    .slice(0, 25);
  for (const [key, us] of interesting) console.log(`  ${pct(us)}  ${key}`);
}
