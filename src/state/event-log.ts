/**
 * Every event as one JSON line in `<data-dir>/events/events.jsonl`, so a session can be examined after
 * the fact (`pxedeck report MAC`). Appending only queues the line: writes are batched on the thread pool
 * (one write per ~200 ms or per 256 KiB), never one synchronous write per event, and the file is rotated
 * by size, logrotate style: events.jsonl → events.jsonl.1 → … → events.jsonl.N-1, the oldest deleted.
 *
 * A disk that cannot keep up costs events, not memory: past `maxPendingBytes` they are counted and a
 * notice saying how many were lost is written in their place. A failing disk is reported through
 * `onError` once per distinct error; the log keeps trying on later batches.
 */
import { mkdir, open, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Mac } from '../protocol/mac.js';
import type { PxedeckEvent } from '../servers/events.js';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../servers/files/private-files.js';
import { LineBatch } from './line-batch.js';

export const EVENT_LOG_DIR = 'events';
export const EVENT_LOG_FILE = 'events.jsonl';

export interface EventLogOptions {
  /** Rotate before a write would take the file past this. Default 16 MiB. */
  readonly maxFileBytes?: number;
  /** Files kept, the current one included. Default 5. */
  readonly keepFiles?: number;
  /** How long an event may wait for its batch. Default 200 ms. */
  readonly flushDelayMs?: number;
  /** Write as soon as this much is queued. Default 256 KiB. */
  readonly flushBytes?: number;
  /** Queued bytes beyond which events are dropped (and counted). Default 16 MiB. */
  readonly maxPendingBytes?: number;
  readonly onError?: (error: Error) => void;
}

export interface EventLogStats {
  written: number;
  /** Write batches: far fewer than events under load. */
  batches: number;
  dropped: number;
  rotations: number;
}

export interface EventLog {
  /** The current file. */
  readonly path: string;
  readonly stats: Readonly<EventLogStats>;
  append(event: PxedeckEvent): void;
  /** The same, with the event already serialised (the sink serialises each event once, for the log and stdout). */
  appendJson(json: string): void;
  /** Resolves when everything appended so far is written. */
  flush(): Promise<void>;
  /** Flushes, then closes the file; later appends are ignored. */
  close(): Promise<void>;
}

const MiB = 1024 * 1024;

/** A `notice` event at warning level as one JSON line: what a writer puts where it had to drop lines. */
export function warningLine(message: string): Buffer {
  const notice: PxedeckEvent = { kind: 'notice', time: Date.now(), source: 'system', level: 'warning', message };
  return Buffer.from(`${JSON.stringify(notice)}\n`);
}

export function eventLogDir(dataDir: string): string {
  return join(dataDir, EVENT_LOG_DIR);
}

export function openEventLog(dataDir: string, options: EventLogOptions = {}): EventLog {
  const dir = eventLogDir(dataDir);
  const path = join(dir, EVENT_LOG_FILE);
  const maxFileBytes = options.maxFileBytes ?? 16 * MiB;
  const keepFiles = Math.max(1, options.keepFiles ?? 5);
  const flushDelayMs = options.flushDelayMs ?? 200;
  const flushBytes = options.flushBytes ?? 256 * 1024;
  const maxPendingBytes = options.maxPendingBytes ?? 16 * MiB;
  const stats: EventLogStats = { written: 0, batches: 0, dropped: 0, rotations: 0 };

  const pending = new LineBatch(flushBytes * 2);
  let failedEarlier = 0;
  let overflowed = 0;
  let handle: FileHandle | undefined;
  let size = 0;
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> | undefined;
  let closed = false;
  let lastError: string | undefined;

  const reportError = (error: unknown): void => {
    const failure = error instanceof Error ? error : new Error(String(error));
    if (failure.message === lastError) return;
    lastError = failure.message;
    options.onError?.(failure);
  };

  async function openCurrent(): Promise<FileHandle> {
    await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    const opened = await open(path, 'a', PRIVATE_FILE_MODE);
    size = (await opened.stat()).size;
    return opened;
  }

  async function rotate(): Promise<void> {
    await handle?.close();
    handle = undefined;
    await rm(`${path}.${keepFiles - 1}`, { force: true });
    for (let index = keepFiles - 2; index >= 1; index -= 1) {
      await rename(`${path}.${index}`, `${path}.${index + 1}`).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    }
    if (keepFiles > 1) await rename(path, `${path}.1`);
    else await rm(path, { force: true });
    stats.rotations += 1;
  }

  const lossNotice = (count: number): Buffer => warningLine(`event log: ${count} events were not written (the disk did not keep up or failed)`);

  /** True when written; on failure the batch's events are counted as lost. */
  async function writeBatch(data: Buffer, events: number): Promise<boolean> {
    try {
      handle ??= await openCurrent();
      if (size > 0 && size + data.length > maxFileBytes) {
        await rotate();
        handle = await openCurrent();
      }
      let offset = 0;
      while (offset < data.length) {
        const { bytesWritten } = await handle.write(data, offset);
        offset += bytesWritten;
      }
      size += data.length;
      stats.written += events;
      stats.batches += 1;
      lastError = undefined;
      return true;
    } catch (error) {
      stats.dropped += events;
      const stale = handle;
      handle = undefined;
      await stale?.close().catch(() => undefined);
      reportError(error);
      return false;
    }
  }

  /**
   * Writes what is queued, and again at once only while a backlog of flushBytes or more is left: lines that
   * came in during a write wait for their delay like any other, since under a steady stream a write after
   * every finished write was a hand-off to the thread pool every few milliseconds.
   */
  async function drain(): Promise<void> {
    if (pending.lines === 0 && overflowed === 0) return;
    do {
      const events = pending.lines;
      const batch = pending.take();
      // Events lost to a failed write came before this batch; those refused for a full queue after it.
      const failed = failedEarlier;
      const overflow = overflowed;
      failedEarlier = 0;
      overflowed = 0;
      const data =
        failed > 0 || overflow > 0
          ? Buffer.concat([...(failed > 0 ? [lossNotice(failed)] : []), batch, ...(overflow > 0 ? [lossNotice(overflow)] : [])])
          : batch;
      if (!(await writeBatch(data, events))) failedEarlier += failed + overflow + events;
    } while (pending.byteLength >= flushBytes || overflowed > 0);
  }

  function kick(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    writing ??= drain().finally(() => {
      writing = undefined;
      // An append that ran while the last batch was finishing found `writing` set and left no timer.
      if ((pending.lines > 0 || overflowed > 0) && !timer) {
        timer = setTimeout(() => void kick(), flushDelayMs);
        timer.unref();
      }
    });
    return writing;
  }

  async function flush(): Promise<void> {
    // A drain that is already running may have taken its batch before the latest appends.
    while (pending.lines > 0 || overflowed > 0 || writing) await kick();
  }

  return {
    path,
    stats,
    append(event) {
      this.appendJson(JSON.stringify(event));
    },
    appendJson(json) {
      if (closed) return;
      if (pending.byteLength + json.length + 1 > maxPendingBytes) {
        stats.dropped += 1;
        overflowed += 1;
      } else pending.push(json);
      if (pending.byteLength >= flushBytes) void kick();
      else if (!timer && !writing) {
        timer = setTimeout(() => void kick(), flushDelayMs);
        timer.unref();
      }
    },
    flush,
    async close() {
      if (closed) return;
      closed = true;
      await flush();
      await handle?.close().catch(reportError);
      handle = undefined;
    },
  };
}

export interface EventFilter {
  /** Events that carry this MAC (events known only by IP are attributed by the registry, not here). */
  readonly mac?: Mac;
  /** Inclusive bounds, milliseconds since the epoch. */
  readonly since?: number;
  readonly until?: number;
  readonly kinds?: readonly PxedeckEvent['kind'][];
}

export interface ReadOptions {
  /** A line that is not an event (a write cut short by a crash, a hand edit): skipped, and told here. */
  readonly onSkipped?: (file: string, line: number, reason: string) => void;
}

/** The log's files, oldest first (the order their events happened in). */
export async function eventLogFiles(dataDir: string): Promise<string[]> {
  const dir = eventLogDir(dataDir);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const numbered = names.flatMap((name) => {
    if (name === EVENT_LOG_FILE) return [{ name, index: 0 }];
    const match = /^events\.jsonl\.(\d+)$/.exec(name);
    return match ? [{ name, index: Number(match[1]) }] : [];
  });
  return numbered.sort((a, b) => b.index - a.index).map(({ name }) => join(dir, name));
}

function isEvent(value: unknown): value is PxedeckEvent {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return typeof record.kind === 'string' && typeof record.time === 'number' && typeof record.source === 'string';
}

function matches(event: PxedeckEvent, filter: EventFilter): boolean {
  if (filter.mac && event.mac !== filter.mac) return false;
  if (filter.since !== undefined && event.time < filter.since) return false;
  if (filter.until !== undefined && event.time > filter.until) return false;
  if (filter.kinds && !filter.kinds.includes(event.kind)) return false;
  return true;
}

/** Streams the events back in the order they were written, across rotated files. */
export async function* streamEvents(dataDir: string, filter: EventFilter = {}, options: ReadOptions = {}): AsyncGenerator<PxedeckEvent> {
  const files = await eventLogFiles(dataDir);
  // Every file is opened before any is read: an open descriptor follows its file through a rotation
  // (a rename) that a running pxedeck may do meanwhile, so no file is read twice or skipped.
  const handles: { file: string; handle: FileHandle }[] = [];
  for (const file of files) {
    try {
      handles.push({ file, handle: await open(file, 'r') });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  try {
    for (const { file, handle } of handles) {
      const lines = createInterface({ input: handle.createReadStream({ autoClose: false, start: 0 }), crlfDelay: Infinity });
      let number = 0;
      for await (const line of lines) {
        number += 1;
        if (line === '') continue;
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch (error) {
          options.onSkipped?.(file, number, `not JSON (${(error as Error).message})`);
          continue;
        }
        if (!isEvent(value)) {
          options.onSkipped?.(file, number, 'not an event (needs kind, time and source)');
          continue;
        }
        if (matches(value, filter)) yield value;
      }
    }
  } finally {
    await Promise.all(handles.map(({ handle }) => handle.close().catch(() => undefined)));
  }
}

export async function readEvents(dataDir: string, filter: EventFilter = {}, options: ReadOptions = {}): Promise<PxedeckEvent[]> {
  const events: PxedeckEvent[] = [];
  for await (const event of streamEvents(dataDir, filter, options)) events.push(event);
  return events;
}
