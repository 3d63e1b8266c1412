/**
 * Reading a lease journal's files (see lease-journal.ts for how they are written): the snapshot
 * `<name>.json`, then `<name>.journal.old`, then `<name>.journal`, each line a whole record or a removal.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigFileError } from './conf-file.js';

export interface LeaseFiles<T> {
  readonly dataDir: string;
  /** `leases` → leases.json and leases.journal. */
  readonly name: string;
  /** The snapshot's top-level key: `{ "<key>": [records] }`. */
  readonly key: string;
  readonly isRecord: (value: unknown) => value is T;
  /** What identifies a record: a later record with the same key replaces it. */
  readonly keyOf: (record: T) => string;
}

function readJson(path: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigFileError(`${path} cannot be read (${(error as Error).message}); fix: correct the JSON or delete the file to start with no ${what}`);
  }
}

/**
 * The records on disk now, without writing anything (safe beside a running pxedeck): the snapshot, then
 * `.journal.old`, then `.journal`, the last line per key winning; lines that are not records are skipped
 * and told in `skipped`.
 */
export function readLeaseJournal<T>({ dataDir, name, key, isRecord, keyOf }: LeaseFiles<T>): { records: Map<string, T>; skipped: string[] } {
  const path = join(dataDir, `${name}.json`);
  const journalPath = join(dataDir, `${name}.journal`);
  const records = new Map<string, T>();
  const skipped: string[] = [];
  if (existsSync(path)) {
    const parsed = readJson(path, key);
    const list = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>)[key] : undefined;
    for (const record of Array.isArray(list) ? list : []) {
      if (isRecord(record)) records.set(keyOf(record), record);
      else skipped.push(`${path}: an entry that is not a lease (${JSON.stringify(record).slice(0, 80)})`);
    }
  }
  for (const file of [`${journalPath}.old`, journalPath]) {
    if (!existsSync(file)) continue;
    if (!statSync(file).isFile()) {
      skipped.push(`${file} is not a regular file: not read`);
      continue;
    }
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((text, index) => {
        if (text === '') return;
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch {
          skipped.push(`${file} line ${index + 1}: not JSON (a write cut short by a crash, if it is the last line)`);
          return;
        }
        const removed = (value as { removed?: unknown } | null)?.removed;
        if (typeof removed === 'string') records.delete(removed);
        else if (isRecord(value)) {
          const id = keyOf(value);
          records.delete(id);
          records.set(id, value);
        } else skipped.push(`${file} line ${index + 1}: not a lease`);
      });
  }
  return { records, skipped };
}
