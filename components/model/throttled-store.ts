/**
 * A snapshot source seen through a throttle: however many events a second bump the source, subscribers
 * hear at most one change per interval (the first at once, then the trailing one), and `getSnapshot`
 * returns the same object between notifications, as useSyncExternalStore requires.
 */
export interface SnapshotSource<T> {
  subscribe(listener: () => void): () => void;
  getSnapshot(): T;
}

export interface ThrottledStore<T> extends SnapshotSource<T> {
  /** Notifications delivered so far (frames the console could draw). */
  readonly deliveries: number;
}

export interface ThrottleClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: ThrottleClock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export function throttleSnapshots<T>(source: SnapshotSource<T>, intervalMs: number, clock: ThrottleClock = realClock): ThrottledStore<T> {
  let current = source.getSnapshot();
  let lastDelivery = Number.NEGATIVE_INFINITY;
  let timer: unknown;
  let deliveries = 0;
  let unsubscribeSource: (() => void) | undefined;
  const listeners = new Set<() => void>();

  const deliver = () => {
    timer = undefined;
    lastDelivery = clock.now();
    const next = source.getSnapshot();
    if (next === current) return;
    current = next;
    deliveries += 1;
    for (const listener of listeners) listener();
  };
  const onSourceChange = () => {
    if (timer !== undefined) return;
    const wait = lastDelivery + intervalMs - clock.now();
    timer = clock.setTimeout(deliver, Math.max(0, wait));
  };

  return {
    get deliveries() {
      return deliveries;
    },
    subscribe(listener) {
      listeners.add(listener);
      unsubscribeSource ??= source.subscribe(onSourceChange);
      // A change between the first read and subscribing must not be lost.
      if (source.getSnapshot() !== current) onSourceChange();
      return () => {
        listeners.delete(listener);
        if (listeners.size > 0) return;
        unsubscribeSource?.();
        unsubscribeSource = undefined;
        if (timer !== undefined) clock.clearTimeout(timer);
        timer = undefined;
      };
    },
    getSnapshot: () => current,
  };
}
