/** The worker-thread side of the transfer pool: runs the transfers it is handed and reports back. */
import { parentPort } from 'node:worker_threads';
import { runTransfer, type LocalTransfer } from './run-transfer.js';
import type { FromWorker, ToWorker } from './transfer-pool.js';

const port = parentPort;
if (!port) throw new Error('transfer-worker runs only as a worker thread');

const running = new Map<number, LocalTransfer>();
const post = (message: FromWorker): void => port.postMessage(message);

/**
 * A transfer alone on this thread may block it between packets (RunningTransfer.setExclusive), the way
 * tftpd-hpa's one process per transfer does; with company, all go back to the event loop.
 */
function shareThread(): void {
  const alone = running.size === 1;
  for (const transfer of running.values()) transfer.setExclusive(alone);
}

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
        shareThread();
        post({ type: 'finish', id, outcome });
      },
    }),
  );
  shareThread();
});
post({ type: 'ready' });
