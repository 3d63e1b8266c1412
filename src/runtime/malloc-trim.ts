/**
 * The C library's free memory handed back to the kernel once the process goes quiet. glibc gives each
 * thread that allocates a malloc arena of its own and returns an arena's freed pages to the kernel only
 * from its top; what is freed below stays resident, for reuse. Two cases cost pxedeck megabytes after a
 * load (docs/performance.md, Memory):
 *
 * - a thread that ended: the TFTP transfer thread ends 30 s after its last transfer, and its arena, with
 *   the ~5 MiB its isolate and environment had allocated and freed, stays behind for a thread to come;
 * - the threads beside the main one (libuv's pool, where sendfile and readahead run; V8's, where parallel
 *   collections run) keep their arenas at their high-water mark.
 *
 * `malloc_trim(0)` returns every free page of every arena. It walks the arenas' free lists (well under a
 * millisecond here), so it runs once per quiet spell: after the main thread was busy, or a thread ended,
 * at the first tick in which the main thread spent less than QUIET_UTILIZATION of its time running.
 * An idle pxedeck trims nothing twice; a loaded one trims nothing until the load ends.
 *
 * V8's own heaps are left to V8: its memory reducer shrinks the young generation and compacts the old one
 * once allocation has been low for a while (10–25 s after start-up, measured), as a one-time collection
 * here would.
 */
import { readFileSync } from 'node:fs';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { optionalLinuxCalls } from '../servers/net/libc.js';

export const TRIM_TICK_MS = 5_000;
/** Below this share of a tick spent running JavaScript or callbacks, the main thread was quiet. */
export const QUIET_UTILIZATION = 0.02;

/** What one tick saw. */
export interface TickSample {
  /** The main thread's event-loop utilization over the tick (0–1). */
  readonly utilization: number;
  /** The process's threads at the tick. */
  readonly threads: number;
}

/**
 * The decision alone, fed one sample per tick: true when this tick should trim. A thread that ended is
 * memory to trim even if the main thread was quiet all along (the transfer thread ends after 30 quiet
 * seconds). The first quiet tick trims what the start-up freed.
 */
export function quietTrimPolicy(): (sample: TickSample) => boolean {
  let pending = true;
  let threads: number | undefined;
  return (sample) => {
    if (threads !== undefined && sample.threads < threads) pending = true;
    threads = sample.threads;
    if (sample.utilization >= QUIET_UTILIZATION) {
      pending = true;
      return false;
    }
    if (!pending) return false;
    pending = false;
    return true;
  };
}

/** null where there is no glibc (musl has no malloc_trim) or no koffi: nothing is trimmed there. */
export const mallocTrim = optionalLinuxCalls((lib) => {
  const trim = lib.func('int malloc_trim(size_t pad)');
  /** True when memory was returned. */
  return (): boolean => trim(0) === 1;
});

function threadCount(): number {
  try {
    return Number(/^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Starts the ticks (they keep no process alive); returns the stop. A platform without malloc_trim gets no ticks. */
export function trimWhenQuiet(tickMs = TRIM_TICK_MS): () => void {
  const trim = mallocTrim();
  if (!trim) return () => undefined;
  const decide = quietTrimPolicy();
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const { utilization } = performance.eventLoopUtilization(now, last);
    last = now;
    if (decide({ utilization, threads: threadCount() })) trim();
  }, tickMs);
  timer.unref();
  return () => clearInterval(timer);
}
