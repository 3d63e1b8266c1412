/**
 * The console's servers on a thread of their own. A console frame holds its thread for 8–18 ms (Ink's
 * layout and diff, the console's models), and a DISCOVER that arrived during one waited for it: beside the
 * console, DISCOVER→OFFER p99 was 25–29 ms at 1000/s where headless it is ~2.5 ms (docs/performance.md,
 * "DHCP with the console"). Here every server — DHCP, TFTP, HTTP, syslog, the control API — runs in a
 * worker (runtime-worker.ts) with its own event loop and heap, so neither frames nor their collections
 * stand between a packet and its answer.
 *
 * What crosses: the command line at each start, and every event back, in the order emitted, a batch per
 * turn of the worker's loop. The worker keeps a registry of its own (boot decisions read a machine's history
 * from it, and it outlives a settings restart like the console's); the console folds the same events into
 * its feed. The operator's changes need no channel: they go to the stores' files, which the servers watch.
 * One worker serves every start of a console session, so a restart keeps the history the decisions read.
 * Where the two threads share a core, the console's gives way (thread-priority.ts).
 */
import { access } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import type { CliOptions } from '../cli/args.js';
import type { StoredEvent } from '../servers/event-json.js';
import type { PxedeckEvent } from '../servers/events.js';
import { readEventBatch, type EventBatch } from './event-batch.js';
import { CONSOLE_BACKLOG_LIMIT } from './event-outbox.js';
import { isOperatorError, StartupError } from './operator-error.js';
import { lowerThreadPriority } from './thread-priority.js';

/** From the console's thread to the worker; `folded`: how many more events the console has folded (event-outbox.ts). */
export type ToRuntimeWorker = { readonly kind: 'start'; readonly cli: CliOptions } | { readonly kind: 'close' } | { readonly kind: 'folded'; readonly events: number };

/** What the worker is made with. */
export interface RuntimeWorkerData {
  /** Events in flight to the console past which the next are left out of it (CONSOLE_BACKLOG_LIMIT). */
  readonly backlogLimit: number;
}

/** From the worker: events, and the outcome of each start and close. */
export type FromRuntimeWorker =
  | { readonly kind: 'events'; readonly batch: EventBatch }
  | { readonly kind: 'started' }
  /** `operator`: an error the operator can fix (a flag, a busy port), shown as one line; else a bug, with its stack. */
  | { readonly kind: 'start-failed'; readonly message: string; readonly stack?: string; readonly operator: boolean }
  | { readonly kind: 'closed' };

export interface ThreadRuntime {
  close(): Promise<void>;
}

export interface RuntimeThread {
  /** Starts the servers from `cli`; rejects as the start in this thread would (a StartupError for the operator's mistakes). */
  start(cli: CliOptions): Promise<ThreadRuntime>;
}

/** The worker's side of a failed start, rebuilt here so the console shows it as it would its own. */
function startError(message: Extract<FromRuntimeWorker, { kind: 'start-failed' }>): Error {
  if (message.operator) return new StartupError(message.message);
  const error = new Error(message.message);
  if (message.stack) error.stack = message.stack;
  return error;
}

export function describeStartFailure(error: unknown): Extract<FromRuntimeWorker, { kind: 'start-failed' }> {
  const message = error instanceof Error ? error.message : String(error);
  const stack = error instanceof Error ? error.stack : undefined;
  return { kind: 'start-failed', message, ...(stack !== undefined && { stack }), operator: isOperatorError(error) };
}

export interface RuntimeThreadOptions {
  /**
   * The worker's uncaught error: its servers are gone. The console restores the terminal and reports it; without
   * a handler it is thrown here, a crash of pxedeck as it was with the servers on the console's thread.
   */
  readonly onCrash?: (error: Error) => void;
  /** The worker's script (the compiled runtime-worker.js beside this file). */
  readonly workerUrl?: URL;
  /** Events in flight to the console past which the next are left out of it (default CONSOLE_BACKLOG_LIMIT). */
  readonly backlogLimit?: number;
}

/**
 * `deliver`: each event, in order, live and in the form a timeline keeps (the console's feed folds it). The
 * worker is made at the first start and holds the process open only while servers run. After a crash, what
 * was asked of it is settled (a start fails, a close is done) and the next start makes a new worker.
 */
export function createRuntimeThread(deliver: (event: PxedeckEvent, stored: StoredEvent) => void, options: RuntimeThreadOptions = {}): RuntimeThread {
  const workerUrl = options.workerUrl ?? new URL('./runtime-worker.js', import.meta.url);
  let worker: Worker | undefined;
  /** Counts the workers made: a runtime whose worker crashed has nothing left to close. */
  let generation = 0;
  /** What the worker answers next settles the oldest waiter: starts and closes are asked one at a time. */
  const waiting: Array<{ readonly asked: 'start' | 'close'; readonly settle: (message: FromRuntimeWorker) => void }> = [];
  const crashed = (error: Error) => {
    worker = undefined;
    for (const { asked, settle } of waiting.splice(0)) {
      settle(asked === 'close' ? { kind: 'closed' } : { ...describeStartFailure(error), operator: false, message: `the servers' thread stopped: ${error.message}` });
    }
    if (!options.onCrash) throw error;
    options.onCrash(error);
  };
  const workerData: RuntimeWorkerData = { backlogLimit: options.backlogLimit ?? CONSOLE_BACKLOG_LIMIT };
  const ask = (message: Extract<ToRuntimeWorker, { kind: 'start' | 'close' }>): Promise<FromRuntimeWorker> => {
    if (!worker) {
      const made = new Worker(workerUrl, { workerData });
      generation += 1;
      made.on('message', (answer: FromRuntimeWorker) => {
        if (answer.kind !== 'events') return waiting.shift()?.settle(answer);
        readEventBatch(answer.batch, deliver);
        made.postMessage({ kind: 'folded', events: answer.batch.heads.length } satisfies ToRuntimeWorker);
      });
      made.on('error', crashed);
      worker = made;
    }
    worker.ref();
    const answered = new Promise<FromRuntimeWorker>((settle) => waiting.push({ asked: message.kind, settle }));
    worker.postMessage(message);
    return answered;
  };
  const idle = () => {
    if (waiting.length === 0) worker?.unref();
  };
  let yielded = false;
  /** Once the servers' thread and libuv's pool exist: a thread made later from this one would inherit the lower priority. */
  const yieldToServers = async () => {
    if (yielded) return;
    yielded = true;
    await access('/');
    lowerThreadPriority();
  };
  return {
    async start(cli) {
      const answer = await ask({ kind: 'start', cli });
      if (answer.kind === 'start-failed') {
        idle();
        throw startError(answer);
      }
      const startedIn = generation;
      await yieldToServers();
      return {
        async close() {
          if (startedIn !== generation || !worker) return;
          await ask({ kind: 'close' });
          idle();
        },
      };
    },
  };
}
