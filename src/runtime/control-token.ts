/**
 * The control API's token: always one. settings.json's `controlToken` when the operator set one; otherwise
 * the data dir's `control-token` file, made on first start (32 random bytes, base64url) with mode 0600 in
 * the 0700 data dir. Local callers (scripts, tests) read it from there: `sudo cat DATA-DIR/control-token`.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PRIVATE_FILE_MODE } from '../servers/files/private-files.js';
import { MIN_TOKEN_LENGTH } from '../servers/http/control-api.js';
import { StartupError } from './operator-error.js';

export const CONTROL_TOKEN_FILE = 'control-token';

export interface ControlToken {
  readonly token: string;
  /** Where it is kept: the file, or settings.json. */
  readonly path: string;
  /** Made just now: shown to the operator once. */
  readonly generated: boolean;
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

/** The token file's content, or undefined when there is none yet. Throws a StartupError naming the fix when it is unusable. */
export function readControlToken(dataDir: string): string | undefined {
  const path = join(dataDir, CONTROL_TOKEN_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw new StartupError(`${path} cannot be read (${(error as Error).message}); fix: delete it and start pxedeck again to make a new token`);
  }
  const token = text.trim();
  if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
    throw new StartupError(`${path} does not hold a token of at least ${MIN_TOKEN_LENGTH} characters on one line; fix: delete it and start pxedeck again to make a new one`);
  }
  return token;
}

export function controlTokenOf(dataDir: string, configured: string | undefined, settingsPath: string): ControlToken {
  if (configured !== undefined) return { token: configured, path: settingsPath, generated: false };
  const path = join(dataDir, CONTROL_TOKEN_FILE);
  const existing = readControlToken(dataDir);
  if (existing !== undefined) return { token: existing, path, generated: false };
  const token = randomBytes(32).toString('base64url');
  try {
    // 'wx': never over a file that appeared meanwhile (another pxedeck starting on the same data dir).
    writeFileSync(path, `${token}\n`, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
  } catch (error) {
    const raced = errorCode(error) === 'EEXIST' ? readControlToken(dataDir) : undefined;
    if (raced !== undefined) return { token: raced, path, generated: false };
    throw new StartupError(`cannot write the control API token to ${path} (${(error as Error).message}); fix: make the data dir writable, or set controlPort to 0 in settings.json`);
  }
  return { token, path, generated: true };
}
