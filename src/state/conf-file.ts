/**
 * One JSON object in a file of the data dir, for state people edit or another pxedeck process writes
 * (settings, assignments, client policies; `pxedeck assign` writes while the console runs). `store` reads
 * the file afresh each time; `set` and `delete` write the whole object, atomically (temp file, fsync,
 * rename) and private to the owner. An unreadable file is an error that names it and says the fix.
 *
 * Written here rather than with the `conf` package: what it added (schemas through ajv, dot paths,
 * migrations) pxedeck does not use, and loading it cost ~12 MB of the process's memory.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../servers/files/private-files.js';

export class ConfigFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigFileError';
  }
}

export interface ConfFile<T extends Record<string, unknown>> {
  readonly path: string;
  /** The object as the file holds it now, over `defaults`; `defaults` alone when there is no file. */
  readonly store: T;
  set<K extends keyof T & string>(key: K, value: T[K]): void;
  delete(key: keyof T & string): void;
}

export function openConfFile<T extends Record<string, unknown>>(dataDir: string, name: string, defaults: T): ConfFile<T> {
  const path = join(dataDir, `${name}.json`);
  const unreadable = (detail: string): ConfigFileError =>
    new ConfigFileError(`${path} cannot be read (${detail}); fix: correct the JSON or delete the file to start from defaults`);

  const read = (): T => {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ...defaults };
      throw unreadable(error instanceof Error ? error.message : String(error));
    }
    let parsed: unknown;
    try {
      parsed = text.trim() === '' ? {} : JSON.parse(text);
    } catch (error) {
      throw unreadable(error instanceof Error ? error.message : String(error));
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw unreadable('it does not hold a JSON object');
    return { ...defaults, ...(parsed as Partial<T>) };
  };

  const write = (store: T): void => {
    mkdirSync(dataDir, { recursive: true, mode: PRIVATE_DIR_MODE });
    const temporary = `${path}.${process.pid}.tmp`;
    const fd = openSync(temporary, 'w', PRIVATE_FILE_MODE);
    try {
      writeSync(fd, `${JSON.stringify(store, undefined, '\t')}\n`);
      fsyncSync(fd);
    } catch (error) {
      closeSync(fd);
      unlinkSync(temporary);
      throw error;
    }
    closeSync(fd);
    renameSync(temporary, path);
  };

  read();
  return {
    path,
    get store() {
      return read();
    },
    set(key, value) {
      write({ ...read(), [key]: value });
    },
    delete(key) {
      const store = read();
      delete store[key];
      write(store);
    },
  };
}
