/**
 * The worker thread that runs the console's servers (runtime-thread.ts says why). It starts and closes the
 * runtime as the console's thread asks, and posts the events back in batches: the event sink hands them over
 * after the replies of a turn, all in one go, and one message per such turn is what goes back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { SerialisedEvent } from '../servers/event-json.js';
import type { PxedeckEvent } from '../servers/events.js';
import { ClientRegistry } from '../state/registry.js';
import { EventOutbox } from './event-outbox.js';
import { describeStartFailure, type FromRuntimeWorker, type RuntimeWorkerData, type ToRuntimeWorker } from './runtime-thread.js';
import { startRuntime, type Runtime } from './start-runtime.js';

if (!parentPort) throw new Error('runtime-worker.ts runs as a worker thread (see runtime-thread.ts)');
const port = parentPort;
const post = (message: FromRuntimeWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

// Outlives each start, as the console's feed does: a settings restart keeps the history decisions read.
const registry = new ClientRegistry();
const outbox = new EventOutbox((workerData as RuntimeWorkerData).backlogLimit);
const flush = () => {
  const taken = outbox.take();
  if (taken) post({ kind: 'events', batch: taken.batch }, taken.transfer);
};
const print = (_event: PxedeckEvent, serialised: SerialisedEvent) => {
  if (outbox.add(serialised) && outbox.pending === 1) queueMicrotask(flush);
};

let runtime: Runtime | undefined;
port.on('message', (message: ToRuntimeWorker) => {
  if (message.kind === 'folded') {
    outbox.folded(message.events);
    // The notice of what the console missed, if that was the turn for it.
    flush();
    return;
  }
  void (async () => {
    if (message.kind === 'start') {
      try {
        runtime = await startRuntime(message.cli, print, registry);
        // The sink hands events over after the turn's replies (a setImmediate of its own): the start's events
        // (servers listening) go before the answer that the start is done.
        await new Promise((done) => setImmediate(done));
        flush();
        post({ kind: 'started' });
      } catch (error) {
        flush();
        post(describeStartFailure(error));
      }
      return;
    }
    await runtime?.close();
    runtime = undefined;
    flush();
    post({ kind: 'closed' });
  })();
});
