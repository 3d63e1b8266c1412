/**
 * `npm run bench:registry`: what the client registry costs when more machines ask than it keeps, as under
 * bench:dhcp (perfdhcp's 10,000 MACs against the registry's 1,000): every exchange makes a record that lives
 * ~250 ms and is forgotten. Long enough to be promoted, so what each machine leaves in the old generation sets
 * how often a full collection falls inside a DHCP burst (docs/performance.md, DHCP).
 *
 * The events are a DORA's five (DISCOVER, OFFER, REQUEST, ACK, lease) shaped as pxedeck's own, each parsed
 * from its JSON line as it is folded (fresh strings and objects, as the server's decode makes), 20 exchanges
 * in flight, with `--garbage-kb` of short-lived objects per event beside (what the server allocates per
 * event besides the fold) so a record lives as many scavenges as in the server. Run with the `pxedeck`
 * command's 2 MiB young generation (the npm script does).
 *
 *   --machines N      distinct MACs (default 50,000: each forgotten once)
 *   --garbage-kb N    short-lived allocation per event beside the fold (default 6)
 *   --build DIR       the compiled build to measure (default this checkout's dist/), e.g. another worktree's
 *                     to compare with
 *
 * Prints the old generation's growth per forgotten machine and the fold's time per event (best of 3 passes
 * over pre-parsed events, nothing else allocating).
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { getHeapSpaceStatistics } from 'node:v8';
import type { ClientRegistry as Registry } from '../src/state/registry.js';
import type { StoredEvent } from '../src/servers/event-json.js';
import type { PxedeckEvent } from '../src/servers/events.js';

const { values } = parseArgs({
  options: {
    machines: { type: 'string', default: '50000' },
    'garbage-kb': { type: 'string', default: '6' },
    build: { type: 'string', default: resolve(import.meta.dirname, '../dist') },
  },
});
const MACHINES = Number(values.machines);
const GARBAGE_OBJECTS = Math.round((Number(values['garbage-kb']) * 1024) / 80);
const build = resolve(values.build);
const { ClientRegistry } = (await import(`${build}/src/state/registry.js`)) as { ClientRegistry: typeof Registry };
const { serialiseEvent } = (await import(`${build}/src/servers/event-json.js`)) as { serialiseEvent: (event: PxedeckEvent) => StoredEvent };

const IN_FLIGHT = 20;
const macOf = (n: number) => `00:0c:${[n >>> 24, n >>> 16, n >>> 8, n].map((byte) => (byte & 0xff).toString(16).padStart(2, '0')).join(':')}`;
const ipOf = (n: number) => `10.77.${(n >>> 8) & 0xff}.${n & 0xff}`;

/** The lines of the exchange of machine `n` at `time`: its first half (DISCOVER, OFFER) or its second. */
function exchangeLines(n: number, time: number, half: 1 | 2): string[] {
  const mac = macOf(n);
  const ip = ipOf(n);
  const head = `"source":"dhcp4","mac":"${mac}","xid":${n},`;
  const asked = (type: string, extra: string) =>
    `{"kind":"dhcp.received","time":${time},${head}"messageType":"${type}","peer":"10.77.0.2:67","summary":"${type} from DHCP client","client":"DHCP client","secs":0,"options":{"53:message-type":"${type}",${extra}"55:parameter-request-list":[1,28,2,3,15,6,12],"61:client-id":"01${mac.replaceAll(':', '')}"},"interface":"srv0"}`;
  const answered = (type: string) =>
    `{"kind":"dhcp.sent","time":${time},${head}"messageType":"${type}","peer":"10.77.0.2:67","summary":"address only","options":{"53:message-type":"${type}","54:server-id":"10.77.0.1","51:lease-time":3600,"1:subnet-mask":"255.255.0.0"},"interface":"srv0","yiaddr":"${ip}","ip":"${ip}"}`;
  if (half === 1) return [asked('DISCOVER', ''), answered('OFFER')];
  return [asked('REQUEST', `"50:requested-ip":"${ip}","54:server-id":"10.77.0.1",`), `{"kind":"lease.granted","time":${time},"source":"dhcp4","mac":"${mac}","ip":"${ip}","expiresAt":${time + 3_600_000}}`, answered('ACK')];
}

/** Every event line in the order a server with IN_FLIGHT exchanges under way would fold them. */
function* allLines(): Generator<string> {
  const start = Date.now();
  for (let n = 0; n < MACHINES + IN_FLIGHT; n += 1) {
    if (n < MACHINES) yield* exchangeLines(n, start + n, 1);
    if (n >= IN_FLIGHT) yield* exchangeLines(n - IN_FLIGHT, start + n, 2);
  }
}

const oldSpaceUsed = () => getHeapSpaceStatistics().find((space) => space.space_name === 'old_space')!.space_used_size;

function measurePromotion(): { events: number; forgotten: number; grownBytes: number } {
  const registry = new ClientRegistry();
  let events = 0;
  let grown = 0;
  let last = oldSpaceUsed();
  let garbage: unknown[] = [];
  for (const line of allLines()) {
    const event = JSON.parse(line) as PxedeckEvent;
    registry.apply(event, serialiseEvent(event));
    garbage = Array.from({ length: GARBAGE_OBJECTS }, (_, i) => ({ i, text: `x${i}` }));
    if (++events % 500 === 0) {
      // Growth between full collections: a drop is one, and what it freed is not growth.
      const now = oldSpaceUsed();
      if (now > last) grown += now - last;
      last = now;
    }
  }
  if (garbage.length < 0) console.log(garbage);
  return { events, forgotten: registry.getSnapshot().evicted, grownBytes: grown };
}

function measureFoldTime(): number {
  const events = Array.from(allLines(), (line) => JSON.parse(line) as PxedeckEvent);
  const stored = events.map((event) => serialiseEvent(event));
  let best = Infinity;
  for (let pass = 0; pass < 3; pass += 1) {
    const registry = new ClientRegistry();
    const started = performance.now();
    for (let i = 0; i < events.length; i += 1) registry.apply(events[i]!, stored[i]);
    best = Math.min(best, performance.now() - started);
  }
  return (best * 1000) / events.length;
}

const promotion = measurePromotion();
console.log(`registry of ${build}: ${MACHINES} machines through the default bound, ${promotion.events} events, ${promotion.forgotten} machines forgotten`);
console.log(
  `  old generation taken on: ${(promotion.grownBytes / 2 ** 20).toFixed(1)} MiB, ${Math.round(promotion.grownBytes / Math.max(1, promotion.forgotten))} bytes per forgotten machine (with ${values['garbage-kb']} KB of other garbage per event)`,
);
console.log(`  fold: ${measureFoldTime().toFixed(2)} µs per event (best of 3 passes)`);
