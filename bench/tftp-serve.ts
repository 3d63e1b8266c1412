/**
 * Runs pxedeck's TFTP server alone, for benchmarks and tests that need it in another process (inside a
 * network namespace: `ip netns exec NS node --import tsx bench/tftp-serve.ts ...`).
 *
 *   --address A (repeatable)  --port P  --root DIR  [--blksize-cap N] [--windowsize-cap N] [--events]
 *   [--threads N] [--loop-delay]
 *
 * Prints one JSON line `{"ready":true,"addresses":[...]}` once listening; with --events, every event as a
 * JSON line after it. With --loop-delay, after each burst of transfers (from the first start while none ran
 * to the last end) a line `{"loopDelay":{"p50","p99","max"},"transfers":N}`: the main thread's event-loop
 * delay in ms during the burst, and the most transfers at once. Exits on SIGTERM/SIGINT or when stdin closes (its parent went away).
 */
import { parseArgs } from 'node:util';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createTftpServer } from '../src/servers/tftp/server.js';
import type { PxedeckEvent } from '../src/servers/events.js';

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
    'loop-delay': { type: 'boolean', default: false },
  },
});

if (!values.root?.length) {
  console.error('tftp-serve: --root is required');
  process.exit(2);
}

/** The main thread's event-loop delay over each burst of transfers. */
function burstMonitor(): (event: PxedeckEvent) => void {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  let active = 0;
  let most = 0;
  const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
  return (event) => {
    if (event.kind === 'transfer.start') {
      if (active === 0) {
        histogram.reset();
        histogram.enable();
        most = 0;
      }
      active += 1;
      most = Math.max(most, active);
    } else if ((event.kind === 'transfer.done' || event.kind === 'transfer.error') && active > 0) {
      active -= 1;
      if (active > 0) return;
      histogram.disable();
      const loopDelay = { p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max) };
      process.stdout.write(`${JSON.stringify({ loopDelay, transfers: most })}\n`);
    }
  };
}
const onBurst = values['loop-delay'] ? burstMonitor() : undefined;

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
    onBurst?.(event);
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
