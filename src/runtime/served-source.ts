/**
 * What a kernel or initrd assigned through the control API may name. Whoever holds the token must not make
 * pxedeck (root) publish an arbitrary file to the boot network, so a source is an http(s) URL, a file of an
 * ISO in the catalog (`iso:<id>/<path>`), or a file inside the boot directory: a path relative to it (served
 * under /files, where the presets' preseed and kickstart folders are found too) or an absolute path that
 * resolves inside it (turned into the relative form); either one by its real path, links followed. Anything
 * else is refused, naming the field and the fix. The operator's own `--kernel FILE` and `pxedeck assign --kernel FILE` are not asked: they are root at
 * the keyboard; their files are served confined to their own directory (src/state/boot-plans.ts).
 */
import { isAbsolute, join, relative, sep } from 'node:path';
import { parseIsoSource } from '../boot/iso/iso-profile.js';
import { usedVariables, type Profile } from '../boot/profile.js';
import { sourcesFor } from '../boot/render-context.js';
import { isInside } from '../servers/files/confined-open.js';
import { realOrResolved } from './runtime-settings.js';

/** The source to store, or throws an Error the API answers with 400. */
export function servedSource(field: string, source: string, bootDir: string): string {
  const fix = `fix: copy the file into the boot directory ${bootDir} and give its path there (e.g. "vmlinuz"), or give an http(s) URL`;
  if (/^https?:\/\//i.test(source)) {
    try {
      new URL(source);
      return source;
    } catch {
      throw new Error(`"${field}": ${JSON.stringify(source)} is not a valid URL; fix: give a full http(s) URL`);
    }
  }
  if (parseIsoSource(source)) return source;
  // file:, tftp:, ftp: … name nothing pxedeck serves: a clear refusal, not a /files path that never resolves.
  if (/^[a-z][a-z0-9+.-]*:/i.test(source)) throw new Error(`"${field}": ${JSON.stringify(source)} is not an http(s) URL; ${fix}`);
  if (source.length === 0 || source.includes('\0')) throw new Error(`"${field}" is empty; ${fix}`);
  if (!isAbsolute(source) && source.split(/[\\/]+/).includes('..')) {
    throw new Error(`"${field}": ${JSON.stringify(source)} leads out of the boot directory; ${fix}`);
  }
  // By its real path: a link in the boot directory (a netboot tarball's, or one planted there) that leads
  // out of it names no file of the boot directory. A relative path that is not there (yet, or a preset's
  // preseed/kickstart file) stays as given: serving it is confined all the same.
  const root = realOrResolved(bootDir);
  const real = realOrResolved(isAbsolute(source) ? source : join(root, source));
  if (!isInside(root, real) || real === root) {
    const shown = isAbsolute(source) ? source : `${JSON.stringify(source)} (${real})`;
    throw new Error(`"${field}": ${shown} is outside the boot directory; ${fix}`);
  }
  return isAbsolute(source) ? relative(root, real).split(sep).join('/') : source;
}

/**
 * Variables a profile's kernel or initrd names (debian-installer's `installer_images`) decide a file too: set
 * through the control API, the sources they make obey the same rule. Throws naming the variable.
 */
export function checkSourceVariables(profile: Profile, variables: Readonly<Record<string, string>>, bootDir: string): void {
  const templates = [profile.kernel, ...profile.initrds].filter((source): source is string => source !== undefined);
  const named = new Set(templates.flatMap(usedVariables));
  const given = Object.keys(variables).filter((name) => named.has(name));
  if (given.length === 0) return;
  const sources = sourcesFor(profile, { ...profile.variables, ...variables });
  for (const source of [sources.kernel, ...sources.initrds]) if (source !== undefined) servedSource(`variables.${given.join(', variables.')}`, source, bootDir);
}
