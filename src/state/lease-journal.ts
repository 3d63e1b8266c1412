/**
 * Leases on disk as a snapshot (`<name>.json`) plus a journal (`<name>.journal`, one JSON line per change),
 * written by group commit: every change made since the last write goes to the journal in one write that
 * returns once the data is on disk (O_DSYNC), and only then do the callbacks waiting on those changes run
 * (the DHCP server sends an ACK only once its lease would survive a kill -9 or a power cut). While one batch is on its way to the disk the next
 * one gathers, so a busy segment costs one flush to disk per batch, not one per lease, and the disk is never
 * waited on by the thread that answers packets.
 *
 * A write that fails is reported through `onError` (once per distinct message) and retried with backoff; the
 * callbacks of the failed batch are dropped (those clients ask again and are answered once the disk takes
 * writes), the records are kept. The first write after a failure is a whole new snapshot, so whatever the
 * failure left in the journal (a torn line, a replaced file) no longer matters.
 *
 * The journal is folded into the snapshot when it grows past `compactLines` (and twice the live records):
 * the journal is renamed `<name>.journal.old`, a fresh one takes new changes at once, and the snapshot is
 * serialised in slices between packets, written to a temp file, fsynced and renamed over the old one; then
 * the old journal is deleted. Loading reads the snapshot, then `.journal.old`, then `.journal`, the last
 * line per key winning; each line holds a whole record, so replaying a line twice changes nothing.
 */
import { closeSync, constants, mkdirSync, openSync, rmSync } from 'node:fs';
import { rename as renameAsync, rm as rmAsync } from 'node:fs/promises';
import { join } from 'node:path';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../servers/files/private-files.js';
import { readLeaseJournal, type LeaseFiles } from './lease-journal-read.js';
import { closeAsync, openAsync, syncDirectory, syncDirectoryAsync, writeAll, writeSnapshotInSlices, writeSnapshotSync } from './lease-snapshot.js';

/**
 * O_DSYNC: each write returns once its data is on disk, as a write followed by fdatasync would, but as one
 * call on libuv's thread pool instead of two — each hand-off wakes a thread on the core the DHCP replies run on.
 */
const JOURNAL_FLAGS = constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC | constants.O_DSYNC;

export interface LeaseJournalOptions<T> extends LeaseFiles<T> {
  /** A write failed (reported once per distinct message until a write succeeds again). */
  readonly onError?: (error: Error, heldBack: number) => void;
  /** Writes succeed again after a failure. */
  readonly onRecovered?: () => void;
  /** Lines in the journal (and at least twice the live records) before it is folded into the snapshot. */
  readonly compactLines?: number;
  /** First retry after a failed write; doubles up to 5 s. */
  readonly retryMs?: number;
  /** Least time between two batches under load (ms); default DEFAULT_BATCH_INTERVAL_MS, 0 for none. */
  readonly batchIntervalMs?: number;
}

export interface LeaseJournalStats {
  /** Journal writes (each one write that returns once on disk). */
  batches: number;
  /** Records written in them. */
  records: number;
  compactions: number;
  failures: number;
  /** Callbacks dropped because their batch failed. */
  heldBack: number;
}

export interface LeaseJournal<T> {
  /** The snapshot file. */
  readonly path: string;
  readonly stats: Readonly<LeaseJournalStats>;
  /** Lines of the files that were not records (a torn last line after a crash, a hand edit), as read at open. */
  readonly skipped: readonly string[];
  /** The records as of the last start: the snapshot with the journals replayed over it. */
  load(): T[];
  /** Records `record`; `onDurable` runs once it is on disk. */
  put(record: T, onDurable?: () => void): void;
  /** Forgets the record with this key. */
  remove(key: string): void;
  /** Runs `callback` once every change made so far is on disk (at once when nothing is pending). */
  whenDurable(callback: () => void): void;
  /** Resolves once every change made so far is on disk (or its write failed). */
  settled(): Promise<void>;
  /** Waits for the write under way, then writes and fsyncs the rest synchronously: call on close. */
  close(): Promise<void>;
}

const MAX_RETRY_MS = 5000;
/** Up to ~500 journal writes (each flushed to disk) a second under load; an ACK waits at most this much longer for its batch. */
export const DEFAULT_BATCH_INTERVAL_MS = 2;
/** Records serialised at a time (about 1 ms of the event loop) before packets get their turn. */
const SLICE = 2000;
/** A pending change: the record's latest state, or its removal. */
const REMOVED = Symbol('removed');
/** No callback waiting: shared, never added to (addWaiter makes a list of its own). */
const NO_WAITERS: ReadonlyArray<() => void> = Object.freeze([]);

export function openLeaseJournal<T>(options: LeaseJournalOptions<T>): LeaseJournal<T> {
  const { dataDir, name, key, keyOf } = options;
  mkdirSync(dataDir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const path = join(dataDir, `${name}.json`);
  const journalPath = join(dataDir, `${name}.journal`);
  const oldJournalPath = `${journalPath}.old`;
  const compactLines = options.compactLines ?? 10_000;
  const stats: LeaseJournalStats = { batches: 0, records: 0, compactions: 0, failures: 0, heldBack: 0 };
  const skipped: string[] = [];

  /** Every live record by key: what a snapshot holds. */
  const live = new Map<string, T>();
  let pending = new Map<string, T | typeof REMOVED>();
  let waiters: ReadonlyArray<() => void> = NO_WAITERS;
  let journalFd = -1;
  let journalSize = 0;
  let journalLines = 0;
  let writing: Promise<void> | null = null;
  let scheduled = false;
  let compacting: Promise<void> | null = null;
  /** After a failure the next write is a whole snapshot. */
  let needsRewrite = false;
  let failing: string | undefined;
  let retryMs = options.retryMs ?? 100;
  let retryTimer: NodeJS.Timeout | undefined;
  /**
   * At most one batch (one write flushed to disk) per interval: under load a batch a few hundred
   * microseconds after the last would carry a lease or two, and each flush costs the core the DHCP replies
   * run on. A lone
   * change after a quiet spell still goes at once.
   */
  const batchIntervalMs = options.batchIntervalMs ?? DEFAULT_BATCH_INTERVAL_MS;
  let lastBatchAt = Number.NEGATIVE_INFINITY;
  let windowTimer: NodeJS.Timeout | undefined;
  let closed = false;

  /** Synchronously: snapshot of `live`, durable, then an empty journal and no old one. */
  function rewriteSync(): void {
    writeSnapshotSync(path, key, [...live.values()]);
    if (journalFd >= 0) closeSync(journalFd);
    journalFd = openSync(journalPath, JOURNAL_FLAGS, PRIVATE_FILE_MODE);
    rmSync(oldJournalPath, { force: true });
    syncDirectory(dataDir);
    journalSize = 0;
    journalLines = 0;
  }

  // Open: the snapshot, the journals over it, then one fresh snapshot so the run starts from clean files.
  const read = readLeaseJournal(options);
  for (const [id, record] of read.records) live.set(id, record);
  skipped.push(...read.skipped);
  const loaded = [...live.values()];
  rewriteSync();

  function report(error: unknown, heldBack: number): void {
    stats.failures += 1;
    const message = error instanceof Error ? error.message : String(error);
    if (message !== failing) options.onError?.(error instanceof Error ? error : new Error(message), heldBack);
    failing = message;
  }

  function succeeded(): void {
    retryMs = options.retryMs ?? 100;
    if (failing === undefined) return;
    failing = undefined;
    options.onRecovered?.();
  }

  async function appendBatch(lines: Map<string, T | typeof REMOVED>, done: ReadonlyArray<() => void>): Promise<void> {
    // A slow disk lets thousands gather: serialised in slices, so packets are answered meanwhile.
    let text = '';
    let count = 0;
    for (const [id, change] of lines) {
      text += `${JSON.stringify(change === REMOVED ? { removed: id } : change)}\n`;
      if (++count % SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    const data = Buffer.from(text, 'utf8');
    await writeAll(journalFd, data, journalSize);
    journalSize += data.length;
    journalLines += lines.size;
    stats.batches += 1;
    stats.records += lines.size;
    for (const callback of done) callback();
  }

  /** A fresh, empty journal takes the next changes (its name on disk before an ACK depends on it). */
  async function freshJournal(): Promise<void> {
    const fresh = await openAsync(journalPath, JOURNAL_FLAGS, PRIVATE_FILE_MODE);
    if (journalFd >= 0) await closeAsync(journalFd).catch(() => undefined);
    journalFd = fresh;
    journalSize = 0;
    journalLines = 0;
    await syncDirectoryAsync(dataDir);
  }

  /** `records` as the snapshot, written between packets (lease-snapshot.ts); then the old journal goes. */
  async function writeSnapshot(records: readonly T[]): Promise<void> {
    await writeSnapshotInSlices(path, key, records);
    await syncDirectoryAsync(dataDir);
    await rmAsync(oldJournalPath, { force: true });
    stats.compactions += 1;
  }

  /** The whole state as a new snapshot and a fresh journal: after a failure, when nothing else is sure. */
  async function rewrite(done: ReadonlyArray<() => void>): Promise<void> {
    await compacting;
    await writeSnapshot([...live.values()]);
    await freshJournal();
    for (const callback of done) callback();
  }

  /**
   * Folds the journal into the snapshot without holding up new changes for long: they go to a fresh
   * journal at once, while the snapshot of this moment is written beside.
   */
  async function startCompaction(): Promise<void> {
    const records = [...live.values()];
    await renameAsync(journalPath, oldJournalPath);
    await freshJournal();
    compacting = writeSnapshot(records)
      .catch((error: unknown) => {
        // The old journal stays (loading reads it); the next write folds everything into a new snapshot.
        needsRewrite = true;
        report(error, 0);
      })
      .finally(() => {
        compacting = null;
      });
  }

  function retryLater(): void {
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      kick();
    }, retryMs);
    retryTimer.unref();
    retryMs = Math.min(MAX_RETRY_MS, retryMs * 2);
  }

  async function writeNext(): Promise<void> {
    const lines = pending;
    const done = waiters;
    pending = new Map();
    waiters = NO_WAITERS;
    try {
      if (needsRewrite) {
        await rewrite(done);
        needsRewrite = false;
      } else await appendBatch(lines, done);
      succeeded();
    } catch (error) {
      needsRewrite = true;
      // Newer changes of the same records (made while this batch was on its way) win over the failed ones.
      for (const [id, change] of lines) if (!pending.has(id)) pending.set(id, change);
      stats.heldBack += done.length;
      report(error, done.length);
      retryLater();
      return;
    }
    if (compacting || journalLines < Math.max(compactLines, 2 * live.size)) return;
    try {
      await startCompaction();
    } catch (error) {
      needsRewrite = true;
      report(error, 0);
      retryLater();
    }
  }

  function kick(): void {
    if (closed || writing || retryTimer || windowTimer) return;
    if (pending.size === 0 && !needsRewrite) {
      // Everything changed so far is on disk: whoever waits on it without a change of its own can go.
      const ready = waiters;
      waiters = NO_WAITERS;
      for (const callback of ready) callback();
      return;
    }
    const wait = lastBatchAt + batchIntervalMs - performance.now();
    if (wait > 0) {
      windowTimer = setTimeout(() => {
        windowTimer = undefined;
        kick();
      }, wait);
      return;
    }
    lastBatchAt = performance.now();
    writing = writeNext().finally(() => {
      writing = null;
      kick();
    });
  }

  /**
   * A list of callbacks is made with its first one in it. An empty list starts out as a list of small
   * integers in V8, and the real journal's first list is made before the DHCP warm-up trains this code: its
   * first callback changed the list's kind and threw away the compiled reply path at the first real REQUEST.
   */
  function addWaiter(callback: () => void): void {
    if (waiters.length === 0) waiters = [callback];
    else (waiters as Array<() => void>).push(callback);
  }

  /** Changes made while handling the packets of one poll phase join one batch. */
  function schedule(): void {
    if (scheduled || writing) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      kick();
    });
  }

  return {
    path,
    stats,
    skipped,
    load: () => loaded,
    put(record, onDurable) {
      const id = keyOf(record);
      live.set(id, record);
      pending.set(id, record);
      if (onDurable) addWaiter(onDurable);
      schedule();
    },
    remove(id) {
      if (!live.delete(id)) return;
      pending.set(id, REMOVED);
      schedule();
    },
    whenDurable(callback) {
      if (!writing && !scheduled && !retryTimer && !windowTimer && pending.size === 0 && !needsRewrite) return callback();
      addWaiter(callback);
      schedule();
    },
    async settled() {
      while (writing || scheduled || compacting || windowTimer) {
        await writing;
        await compacting;
        if (scheduled) await new Promise((resolve) => setImmediate(resolve));
        if (windowTimer && !writing) await new Promise((resolve) => setTimeout(resolve, batchIntervalMs));
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      if (windowTimer) clearTimeout(windowTimer);
      await writing;
      await compacting;
      // Whoever waits on these changes has stopped (the server closes first): they are written, not answered.
      waiters = NO_WAITERS;
      try {
        if (needsRewrite || pending.size > 0) rewriteSync();
        pending = new Map();
        succeeded();
      } catch (error) {
        report(error, 0);
      } finally {
        closeSync(journalFd);
        journalFd = -1;
      }
    },
  };
}
