/** The worker-thread side of the transfer pool: runs the transfers it is handed and reports back. */
import { parentPort } from 'node:worker_threads';
import { runTransfer, type LocalTransfer } from './run-transfer.js';
import { serveSlice } from './synchronous-slices.js';
import type { Transfer } from './transfer.js';
import type { FromWorker, ToWorker } from './transfer-pool.js';

const port = parentPort;
if (!port) throw new Error('transfer-worker runs only as a worker thread');

const running = new Map<number, LocalTransfer>();
const post = (message: FromWorker): void => port.postMessage(message);

let sliceScheduled = false;

/**
 * When every transfer on this thread is at windowsize 1, the thread serves them synchronously in slices
 * (synchronous-slices.ts), between which its event loop runs; a windowed transfer keeps them all on the
 * event loop. setImmediate: after the loop's poll phase, so messages and timers get their turn first.
 */
function wake(): void {
  if (sliceScheduled) return;
  sliceScheduled = true;
  setImmediate(() => {
    sliceScheduled = false;
    const transfers: Transfer[] = [];
    for (const local of running.values()) {
      if (!local.transfer) return;
      transfers.push(local.transfer);
    }
    if (serveSlice(transfers)) wake();
  });
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'abort') {
    running.get(message.id)?.abort(message.message);
    return;
  }
  const { id } = message;
  try {
    running.set(
      id,
      runTransfer(message.spec, {
        onProgress: (bytes) => post({ type: 'progress', id, bytes }),
        onFinish: (outcome) => {
          running.delete(id);
          post({ type: 'finish', id, outcome });
          wake();
        },
        onWake: wake,
      }),
    );
  } catch (error) {
    // One transfer's fault is that transfer's error; the thread goes on serving the others.
    running.delete(id);
    post({ type: 'finish', id, outcome: { kind: 'unstarted', message: `transfer failed: ${error instanceof Error ? error.message : String(error)}` } });
  }
});
post({ type: 'ready' });
