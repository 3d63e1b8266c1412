/**
 * A second advertiser for namespace tests (`ip netns exec NS node --import tsx fake-router.ts '<json>'`),
 * on the same raw socket module as the service but with none of its decisions: it advertises a router
 * lifetime every `intervalMs` and answers solicitations; on SIGTERM it sends the final RA with lifetime 0
 * that a router leaving the link sends (RFC 4861 §6.2.5, what radvd does on exit) and exits. Prints one
 * JSON line per RA it sends.
 */
import { decode, encode } from '../../../src/protocol/icmpv6/router-discovery.js';
import { parseMac } from '../../../src/protocol/mac.js';
import { ALL_NODES, openRouterDiscoverySocket } from '../../../src/servers/ra/icmpv6-socket.js';

interface FakeRouterOptions {
  readonly interfaceName: string;
  readonly mac: string;
  readonly routerLifetime: number;
  readonly intervalMs: number;
  readonly prefix?: string;
}

const options = JSON.parse(process.argv[2] ?? '{}') as FakeRouterOptions;
const mac = parseMac(options.mac)!;
const socket = openRouterDiscoverySocket(options.interfaceName);

function advert(routerLifetime: number): Buffer {
  return encode({
    kind: 'router-advert',
    curHopLimit: 64,
    managed: false,
    other: true,
    preference: 'medium',
    routerLifetime,
    reachableTime: 0,
    retransTimer: 0,
    options: [
      { type: 'source-link-layer', mac },
      ...(options.prefix ? [{ type: 'prefix' as const, prefix: options.prefix, prefixLength: 64, onLink: true, autonomous: true, validLifetime: 600, preferredLifetime: 300 }] : []),
    ],
  });
}

function send(routerLifetime: number, destination: string, why: string): void {
  socket.send(advert(routerLifetime), destination);
  process.stdout.write(`${JSON.stringify({ sent: why, routerLifetime, destination, time: Date.now() })}\n`);
}

send(options.routerLifetime, ALL_NODES, 'start');
const periodic = setInterval(() => send(options.routerLifetime, ALL_NODES, 'periodic'), options.intervalMs);
const poller = setInterval(() => {
  for (const { data, from } of socket.receive()) {
    if (decode(data).kind === 'router-solicit') send(options.routerLifetime, ALL_NODES, `solicited by ${from}`);
  }
}, 50);
process.once('SIGTERM', () => {
  clearInterval(periodic);
  clearInterval(poller);
  send(0, ALL_NODES, 'final');
  socket.close();
  process.exit(0);
});
