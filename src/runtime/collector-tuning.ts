/**
 * How V8's collector is set for a server that answers packets. By default V8 starts a full (mark-compact)
 * collection once the old generation has grown by a factor it picks from its own speed, ~1.1–2× of what
 * survived the last one. pxedeck's live heap is small (15–20 MB under full DHCP load) and what it promotes
 * is mostly short-lived (records of machines it will forget, leases about to be renewed), so that factor
 * meant a full collection every ~1.4 s at 1000 DORA/s, each holding the event loop 15–20 ms across its
 * final pause and marking steps: the DISCOVERs behind it were 1 % of all, and set the p99 (docs/performance.md,
 * DHCP). Growing 4× before the next one makes them ~10× rarer at the same rate; the price is garbage kept
 * up to 3× the live heap (~50 MB at that load) until the collection, memory the process already held at its
 * peak (RSS at 1000 and 4000 DORA/s was the same with and without it).
 *
 * The flag is read at every collection, so it takes effect when set at run time.
 */
import { setFlagsFromString } from 'node:v8';

const HEAP_GROWING_PERCENT = 300;

/** Setting it again (the console restarts the servers on a settings change) changes nothing. */
export function tuneCollectorForServing(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
