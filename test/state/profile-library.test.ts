import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { profileLibraryLoader } from '../../src/state/profile-library.js';
import { tempDirs } from '../support/temp-dirs.js';

const newDir = tempDirs('pxedeck-profile-library-');

/** A profile file whose modification time is `ageSeconds` in the past (a file just written counts as fresh). */
function writeProfile(dir: string, id: string, title: string, ageSeconds = 60, when = Date.now() / 1000 - ageSeconds): string {
  const file = join(dir, 'profiles', `${id}.yaml`);
  mkdirSync(join(dir, 'profiles'), { recursive: true });
  writeFileSync(file, `title: ${title}\nkernel: http://example.invalid/vmlinuz\n`);
  utimesSync(file, when, when);
  return file;
}

describe('profileLibraryLoader', () => {
  it('parses again only when a file was added, rewritten or removed', () => {
    const presets = newDir();
    const user = newDir();
    writeProfile(presets, 'alpha', 'Alpha');
    const load = profileLibraryLoader(presets, [user]);

    const first = load();
    expect(first.profiles.get('alpha')?.title).toBe('Alpha');
    expect(load()).toBe(first);

    // Same size, another time: a rewrite.
    writeProfile(presets, 'alpha', 'Alphb', 30);
    const rewritten = load();
    expect(rewritten).not.toBe(first);
    expect(rewritten.profiles.get('alpha')?.title).toBe('Alphb');
    expect(load()).toBe(rewritten);

    // A user's file of the same id wins, and a new menus folder counts as a change too.
    writeProfile(user, 'alpha', 'Mine');
    const added = load();
    expect(added.profiles.get('alpha')?.title).toBe('Mine');
    mkdirSync(join(user, 'menus'));
    writeFileSync(join(user, 'menus', 'bench.yaml'), 'title: bench\nitems:\n  - { profile: alpha, key: a }\n');
    const old = Date.now() / 1000 - 60;
    utimesSync(join(user, 'menus', 'bench.yaml'), old, old);
    const withMenu = load();
    expect(withMenu.menus.get('bench')?.items).toHaveLength(1);
    expect(load()).toBe(withMenu);

    rmSync(join(user, 'profiles', 'alpha.yaml'));
    const removed = load();
    expect(removed.profiles.get('alpha')?.title).toBe('Alphb');
  });

  it('does not trust the time of a file written in the last seconds: two quick edits of one size both count', () => {
    const presets = newDir();
    // Both edits carry the same time, as two edits within one tick of the file system's clock do.
    const sameTick = Date.now() / 1000 - 0.5;
    writeProfile(presets, 'alpha', 'One', 0, sameTick);
    const load = profileLibraryLoader(presets);
    expect(load().profiles.get('alpha')?.title).toBe('One');
    writeProfile(presets, 'alpha', 'Two', 0, sameTick);
    expect(load().profiles.get('alpha')?.title).toBe('Two');
  });
});
