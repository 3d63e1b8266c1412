/** The worker-thread side of the transfer pool: runs the transfers it is handed and reports back. */
import { parentPort } from 'node:worker_threads';
import { runTransfer, type RunningTransfer } from './run-transfer.js';
import type { FromWorker, ToWorker } from './transfer-pool.js';

const port = parentPort;
if (!port) throw new Error('transfer-worker runs only as a worker thread');

const running = new Map<number, RunningTransfer>();
const post = (message: FromWorker): void => port.postMessage(message);

port.on('message', (message: ToWorker) => {
  if (message.type === 'abort') {
    running.get(message.id)?.abort(message.message);
    return;
  }
  const { id } = message;
  running.set(
    id,
    runTransfer(message.spec, {
      onProgress: (bytes) => post({ type: 'progress', id, bytes }),
      onFinish: (outcome) => {
        running.delete(id);
        post({ type: 'finish', id, outcome });
      },
    }),
  );
});
post({ type: 'ready' });
