/**
 * How V8's collector is set for a server that answers packets. Both flags are read at each collection,
 * so they take effect when set at run time (checked in `--trace-gc`: the growth, and the marking steps).
 *
 * Growth. By default V8 starts a full (mark-compact) collection once the old generation has grown by a
 * factor it picks from its own speed, ~1.1–2× of what survived the last one. pxedeck's live heap is small
 * (15–20 MB under full DHCP load) and what it promotes is mostly short-lived (records of machines it will
 * forget, leases about to be renewed), so that factor meant a full collection every ~1.4 s at 1000 DORA/s,
 * each holding the event loop 15–20 ms across its final pause and marking steps: the DISCOVERs behind it
 * were 1 % of all, and set the p99 (docs/performance.md, DHCP). Growing 4× before the next one makes them
 * ~10× rarer at the same rate; the price is garbage kept up to 3× the live heap (~50 MB at that load) until
 * the collection, memory the process already held at its peak (RSS at 1000 and 4000 DORA/s was the same
 * with and without it).
 *
 * Marking on the main thread. V8 marks the old generation on helper threads by default, beside the
 * JavaScript. Where pxedeck shares its core (a busy laptop, a container with one CPU, the bench pinned to
 * one), those threads take the core from the event loop for 15–20 ms at a time: every full collection
 * under a 4000/s burst left 60–150 answers 5–20 ms late, measured on the wire. Marked incrementally on the
 * main thread instead, the same work (~15 ms for this heap) is done in 200–250 steps of under a millisecond
 * between packets, and the bursts had no late answers around their full collections. On many idle cores
 * the helper threads would save those 15 ms of main-thread time per collection (one every few seconds
 * under load, none at idle): not worth a late answer.
 *
 * Beside the console the old generation grows 2×, not 4×. There the heap is mostly the screen's: Ink builds
 * every frame anew (~3 MB), and the part a scavenge catches mid-frame is promoted. An idle console draws
 * a frame a minute, and that promoted ~0.45 MiB a minute, kept until the next full collection: with 4×
 * growth that collection comes after hours, with the console's RSS creeping from ~100 MiB towards the 4×
 * limit; with 2× it comes after ~20 MB, and V8's memory reducer (which runs after a full collection)
 * then returns the pages. A DHCP burst beside the console sees more full collections; with 4× its tail was
 * no better (bench:dhcp --servers console: DO p99 32–50 ms against 41–46 at 1000/s) and its RSS peak
 * 50 MiB higher, and bench:console's CPU was the same either way (docs/performance.md, Memory and "DHCP
 * with the console").
 *
 * V8's flags are the process's: beside the console, the servers' thread (runtime-thread.ts) grows its heap
 * 2× too. Its heap is the servers' alone there, so its full collections are shorter than when the console's
 * heap was marked with them; with its own thread its answers no longer wait behind the console's.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const HEAP_GROWING_PERCENT = { headless: 300, console: 100 } as const;

/** What else runs in the process beside the servers: nothing (`--headless`), or the console. */
export type ServersBeside = keyof typeof HEAP_GROWING_PERCENT;

/** Called by the composition root before the servers start, once per process. */
export function tuneCollectorForServing(beside: ServersBeside): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT[beside]}`);
  setFlagsFromString('--no-concurrent-marking');
}

/**
 * One full collection, now. V8 sets the old generation's next limit from what survives a full collection,
 * so the first one decides how far a fresh server's heap may grow before it collects again. The start-up's
 * collection comes before the DHCP warm-up (dhcp-warm-up.ts), whose throwaway server, registry and pool then
 * fill the old generation to within ~13 MB of that limit: the first 4000/s burst reached it ~1.5 s in and
 * paid the burst's most costly collection there (docs/performance.md, DHCP). Collected once when the
 * warm-up ends, the limit is sized from the heap that stays, with the warm-up's garbage gone.
 *
 * `gc` exists only in contexts made while `--expose-gc` is set; it is set for the one made here and unset at
 * once, so nothing else sees it.
 */
export function collectGarbageNow(): void {
  setFlagsFromString('--expose-gc');
  const collect = runInNewContext('gc') as () => void;
  setFlagsFromString('--no-expose-gc');
  collect();
}
