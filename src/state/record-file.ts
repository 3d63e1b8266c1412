/**
 * A list of records persisted as one JSON file in the data dir (`{ "<key>": [...] }`), for state that
 * changes at packet rate: leases. Changes are coalesced and written asynchronously (temp file, fsync,
 * rename), so a busy segment never waits on the disk; `flush()` writes synchronously on close.
 * conf suits settings edited by people; it re-reads and fsyncs the whole file on every change, which
 * held the DHCP server up for tens of milliseconds per write at a thousand leases.
 */
import { existsSync, readFileSync, renameSync, writeFileSync, mkdirSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigFileError } from './conf-file.js';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../servers/files/private-files.js';

export interface RecordFile<T> {
  readonly path: string;
  load(): T[];
  /** Something changed; `snapshot` is called when the write happens, not now. */
  save(snapshot: () => readonly T[]): void;
  /** Writes any pending change now (synchronously): call on close. */
  flush(): void;
  /** Resolves once the writes started so far have reached the disk (tests, benchmarks). */
  settled(): Promise<void>;
}

export function openRecordFile<T>(dataDir: string, name: string, key: string, isRecord: (value: unknown) => value is T, coalesceMs = 250): RecordFile<T> {
  mkdirSync(dataDir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const path = join(dataDir, `${name}.json`);
  let pending: (() => readonly T[]) | null = null;
  let timer: NodeJS.Timeout | null = null;
  let writing: Promise<void> = Promise.resolve();

  const serialize = (records: readonly T[]) => `${JSON.stringify({ [key]: records })}\n`;

  async function writeAsync(text: string): Promise<void> {
    const temp = `${path}.tmp`;
    const handle = await open(temp, 'w', PRIVATE_FILE_MODE);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  }

  function writeLater(): void {
    timer = null;
    const snapshot = pending;
    pending = null;
    if (!snapshot) return;
    const text = serialize(snapshot());
    // One write at a time, in order: the last one started is the last one to land.
    writing = writing.then(() => writeAsync(text)).catch(() => undefined);
  }

  return {
    path,
    load() {
      if (!existsSync(path)) return [];
      let parsed: unknown;
      try {
        parsed = JSON.parse(readFileSync(path, 'utf8'));
      } catch (error) {
        throw new ConfigFileError(`${path} cannot be read (${(error as Error).message}); fix: correct the JSON or delete the file to start with no ${key}`);
      }
      const records = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>)[key] : undefined;
      // A hand-edited entry that is not a record is skipped rather than trusted.
      return Array.isArray(records) ? records.filter(isRecord) : [];
    },
    save(snapshot) {
      pending = snapshot;
      timer ??= setTimeout(writeLater, coalesceMs);
    },
    flush() {
      if (timer) clearTimeout(timer);
      timer = null;
      if (!pending) return;
      const text = serialize(pending());
      pending = null;
      writeFileSync(`${path}.tmp`, text, { mode: PRIVATE_FILE_MODE });
      renameSync(`${path}.tmp`, path);
    },
    settled: () => writing,
  };
}
