/**
 * Where transfers run. A TFTP sender spends its time in the kernel's send path (~20 µs per datagram over
 * a veth, the same for tftpd-hpa), so one thread caps the total rate of many concurrent transfers;
 * tftpd-hpa forks a process per transfer and uses every core. Worker threads give us the same: the main
 * thread keeps the listening sockets, confinement and the boot core's callbacks, and hands each
 * negotiated transfer (an open descriptor, or the bytes of a virtual file) to the least busy worker.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { runTransfer, type RunCallbacks, type RunOutcome, type RunningTransfer, type TransferSpec } from './run-transfer.js';

export type ToWorker =
  | { readonly type: 'run'; readonly id: number; readonly spec: TransferSpec }
  | { readonly type: 'abort'; readonly id: number; readonly message: string };

export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'progress'; readonly id: number; readonly bytes: number }
  | { readonly type: 'finish'; readonly id: number; readonly outcome: RunOutcome };

export interface TransferRunner {
  run(spec: TransferSpec, callbacks: RunCallbacks): RunningTransfer;
  /** Worker threads running now. */
  readonly threads: number;
  close(): Promise<void>;
}

export const inThreadRunner: TransferRunner = {
  run: runTransfer,
  threads: 0,
  close: () => Promise.resolve(),
};

/** The TypeScript sources run through tsx; a worker starts without the parent's loader, so it registers tsx itself. */
function tsxApiUrl(): string | undefined {
  try {
    const resolved = import.meta.resolve?.('tsx/esm/api');
    if (resolved) return resolved;
  } catch {
    // fall through to require.resolve
  }
  try {
    return pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  } catch {
    return undefined;
  }
}

const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
const load = workerData.tsx
  ? import(workerData.tsx).then((tsx) => tsx.register(), () => undefined)
  : Promise.resolve();
load.then(() => import(workerData.entry)).catch((error) => { throw error; });
`;

interface Slot {
  readonly worker: Worker;
  readonly active: Map<number, RunCallbacks>;
  /** Ends an idle worker; set while it has nothing to do. */
  idle?: NodeJS.Timeout;
}

/** A worker with no transfer for this long ends: each costs ~15 MB of memory while it lives. */
export const DEFAULT_WORKER_IDLE_MS = 30_000;

/**
 * The young generation of a worker's heap. A transfer allocates little per packet; V8's default lets the
 * nursery grow to 16 MB per worker under any churn, which is memory and no speed here. The command's own
 * `--max-semi-space-size=2` (bin/pxedeck.js) is the process's and sets the worker's too (4 MiB committed,
 * measured: docs/performance.md); this limit is for a node started without it.
 */
const WORKER_YOUNG_GENERATION_MB = 2;

/**
 * Up to `threads` workers, started when a transfer finds every running one busy and ended after `idleMs`
 * without a transfer: an idle pxedeck holds none.
 */
export function createWorkerRunner(threads: number, idleMs = DEFAULT_WORKER_IDLE_MS): TransferRunner {
  const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const entry = new URL(`./transfer-worker${extension}`, import.meta.url).href;
  const tsx = extension === '.ts' ? tsxApiUrl() : undefined;
  const slots = new Set<Slot>();
  let nextId = 1;
  let closed = false;

  /** The worker is gone (it failed, exited or was ended): its transfers end with `message`. */
  const drop = (slot: Slot, message: string): void => {
    if (!slots.delete(slot)) return;
    clearTimeout(slot.idle);
    for (const callbacks of slot.active.values()) {
      callbacks.onFinish({ kind: 'error', bytes: 0, message, probe: false, byClient: false });
    }
    slot.active.clear();
  };

  const retire = (slot: Slot): void => {
    drop(slot, 'transfer thread ended');
    void slot.worker.terminate();
  };

  const spawn = (): Slot | undefined => {
    let worker: Worker;
    try {
      worker = new Worker(BOOTSTRAP, { eval: true, workerData: { entry, tsx }, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
    } catch {
      return undefined;
    }
    const slot: Slot = { worker, active: new Map() };
    worker.unref();
    worker.on('message', (message: FromWorker) => {
      if (message.type === 'ready') return;
      const callbacks = slot.active.get(message.id);
      if (!callbacks) return;
      if (message.type === 'progress') callbacks.onProgress(message.bytes);
      else {
        slot.active.delete(message.id);
        if (slot.active.size === 0 && slots.has(slot)) slot.idle = setTimeout(() => retire(slot), idleMs).unref();
        callbacks.onFinish(message.outcome);
      }
    });
    worker.on('error', (error) => drop(slot, `transfer thread failed: ${error.message}`));
    worker.on('exit', (code) => drop(slot, `transfer thread exited (${code})`));
    slots.add(slot);
    return slot;
  };

  return {
    run(spec, callbacks) {
      let chosen: Slot | undefined;
      for (const slot of slots) {
        if (!chosen || slot.active.size < chosen.active.size) chosen = slot;
      }
      if ((!chosen || chosen.active.size > 0) && slots.size < threads && !closed) chosen = spawn() ?? chosen;
      // No worker to be had (it should not happen): keep serving from this thread rather than fail boots.
      if (!chosen) return runTransfer(spec, callbacks);
      const slot = chosen;
      clearTimeout(slot.idle);
      slot.idle = undefined;
      const id = nextId++;
      slot.active.set(id, callbacks);
      slot.worker.postMessage({ type: 'run', id, spec } satisfies ToWorker);
      return {
        abort(message) {
          if (slot.active.has(id)) slot.worker.postMessage({ type: 'abort', id, message } satisfies ToWorker);
        },
      };
    },
    get threads() {
      return slots.size;
    },
    async close() {
      closed = true;
      // Give aborts already posted a moment to reach their clients as ERROR packets.
      const deadline = Date.now() + 500;
      while ([...slots].some((slot) => slot.active.size > 0) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const workers = [...slots].map((slot) => slot.worker);
      for (const slot of [...slots]) drop(slot, 'server closed');
      await Promise.all(workers.map((worker) => worker.terminate()));
    },
  };
}
