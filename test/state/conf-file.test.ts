import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openConfFile } from '../../src/state/conf-file.js';

const dirs: string[] = [];
const scratch = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'pxd-conf-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('conf files (settings, assignments, client policies)', () => {
  it('no file reads as the defaults and writes nothing until a change; a change writes the whole object, private, in a new data dir', () => {
    const dataDir = join(scratch(), 'data');
    const file = openConfFile<Record<string, unknown>>(dataDir, 'settings', { mode: 'proxy' });
    expect(file.store).toEqual({ mode: 'proxy' });
    file.set('httpPort', 8080);
    expect(JSON.parse(readFileSync(file.path, 'utf8'))).toEqual({ mode: 'proxy', httpPort: 8080 });
    expect(statSync(file.path).mode & 0o777).toBe(0o600);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    file.delete('httpPort');
    expect(file.store).toEqual({ mode: 'proxy' });
    expect(readdirSync(dataDir)).toEqual(['settings.json']);
  });

  it('reads the file afresh: what another process wrote is seen, and kept when this one writes', () => {
    const dir = scratch();
    const ours = openConfFile<Record<string, unknown>>(dir, 'assignments', {});
    ours.set('52:54:00:00:00:01', { profile: 'memtest' });
    const theirs = openConfFile<Record<string, unknown>>(dir, 'assignments', {});
    theirs.set('52:54:00:00:00:02', { profile: 'alpine' });
    expect(Object.keys(ours.store)).toEqual(['52:54:00:00:00:01', '52:54:00:00:00:02']);
  });

  it('a file that is not a JSON object is an error naming the file and the fix, at open and later', () => {
    const dir = scratch();
    writeFileSync(join(dir, 'clients.json'), '{"52:54:00:00:00:01": ');
    expect(() => openConfFile(dir, 'clients', {})).toThrow(/clients\.json cannot be read \(.*JSON.*\); fix: correct the JSON or delete the file/);
    writeFileSync(join(dir, 'clients.json'), '{}');
    const file = openConfFile(dir, 'clients', {});
    writeFileSync(join(dir, 'clients.json'), '[1, 2]');
    expect(() => file.store).toThrow(/clients\.json cannot be read \(it does not hold a JSON object\)/);
  });
});
