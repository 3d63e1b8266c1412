/**
 * Runs pxedeck's TFTP server alone, for benchmarks and tests that need it in another process (inside a
 * network namespace: `ip netns exec NS node --import tsx bench/tftp-serve.ts ...`).
 *
 *   --address A (repeatable)  --port P  --root DIR  [--blksize-cap N] [--windowsize-cap N] [--events]
 *
 * Prints one JSON line `{"ready":true,"addresses":[...]}` once listening; with --events, every event as a
 * JSON line after it. Exits on SIGTERM/SIGINT or when stdin closes (its parent went away).
 */
import { parseArgs } from 'node:util';
import { createTftpServer } from '../src/servers/tftp/server.js';

const { values } = parseArgs({
  options: {
    address: { type: 'string', multiple: true, default: ['127.0.0.1'] },
    port: { type: 'string', default: '0' },
    root: { type: 'string', multiple: true },
    'blksize-cap': { type: 'string' },
    'windowsize-cap': { type: 'string' },
    'max-transfers': { type: 'string' },
    events: { type: 'boolean', default: false },
    'no-gso': { type: 'boolean', default: false },
    threads: { type: 'string' },
  },
});

if (!values.root?.length) {
  console.error('tftp-serve: --root is required');
  process.exit(2);
}

const controller = new AbortController();
const server = await createTftpServer({
  bind: values.address!.map((address) => ({ address, port: Number(values.port) })),
  root: values.root,
  signal: controller.signal,
  udpSegmentation: !values['no-gso'],
  ...(values.threads ? { threads: Number(values.threads) } : {}),
  ...(values['blksize-cap'] ? { blksizeCap: Number(values['blksize-cap']) } : {}),
  ...(values['windowsize-cap'] ? { windowsizeCap: Number(values['windowsize-cap']) } : {}),
  ...(values['max-transfers'] ? { maxTransfers: Number(values['max-transfers']) } : {}),
  emit: (event) => {
    if (values.events) process.stdout.write(`${JSON.stringify(event)}\n`);
  },
});
process.stdout.write(`${JSON.stringify({ ready: true, addresses: server.addresses })}\n`);

const stop = (): void => {
  controller.abort();
  void server.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
