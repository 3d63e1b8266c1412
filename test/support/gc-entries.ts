// The collections V8 reports through perf_hooks, for tests that ask whether pxedeck asked for one.
import { PerformanceObserver, constants, type NodeGCPerformanceDetail, type PerformanceEntry } from 'node:perf_hooks';

/** A full (mark-compact) collection that code asked for (`gc()`), not one V8 chose. */
export function isForcedFullCollection(entry: PerformanceEntry): boolean {
  const detail = (entry as PerformanceEntry & { readonly detail?: NodeGCPerformanceDetail }).detail;
  return detail !== undefined && detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR && (detail.flags & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) !== 0;
}

/** Starts recording collections; `stop()` waits for the reports still on their way, then returns them all. */
export function observeCollections(): { stop(): Promise<PerformanceEntry[]> } {
  const seen: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => seen.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  return {
    async stop() {
      // Entries are delivered on a later turn of the event loop.
      await new Promise((resolve) => setTimeout(resolve, 50));
      observer.disconnect();
      return seen;
    },
  };
}
