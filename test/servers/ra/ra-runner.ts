/**
 * The RA service in a network namespace (`ip netns exec NS node --import tsx ra-runner.ts '<json options>'`):
 * raw sockets belong to the namespace they are made in, and the test process lives in the host's. Prints
 * every event as a JSON line and `{"closed":true}` once closed on SIGTERM.
 */
import { parseMac } from '../../../src/protocol/mac.js';
import { createRouterAdvertService, prefixesFromAddresses } from '../../../src/servers/ra/service.js';

interface RunnerOptions {
  readonly interfaceName: string;
  readonly mac: string;
  readonly addresses: ReadonlyArray<{ address: string; prefixLength: number }>;
  readonly managed?: boolean;
  readonly other?: boolean;
  readonly listenMs?: number;
  readonly intervalMs?: number;
  readonly routerLifetime?: number;
}

const options = JSON.parse(process.argv[2] ?? '{}') as RunnerOptions;
const service = await createRouterAdvertService({
  interfaceName: options.interfaceName,
  mac: parseMac(options.mac)!,
  prefixes: prefixesFromAddresses(options.addresses),
  ...(options.managed !== undefined && { managed: options.managed }),
  ...(options.other !== undefined && { other: options.other }),
  ...(options.listenMs !== undefined && { listenMs: options.listenMs }),
  ...(options.intervalMs !== undefined && { intervalMs: options.intervalMs }),
  ...(options.routerLifetime !== undefined && { routerLifetime: options.routerLifetime }),
  emit: (event) => process.stdout.write(`${JSON.stringify(event)}\n`),
});
const keepAlive = setInterval(() => undefined, 1 << 30);
process.once('SIGTERM', () => {
  void service.close().then(() => {
    process.stdout.write(`${JSON.stringify({ closed: true, stats: service.stats })}\n`);
    clearInterval(keepAlive);
  });
});
