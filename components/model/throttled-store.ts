/**
 * A snapshot source seen through a throttle: however many events a second bump the source, subscribers
 * hear at most one change per interval (the first at once, then the trailing one), and `getSnapshot`
 * returns the same object between notifications, as useSyncExternalStore requires.
 *
 * With a `budget` (a share of one core), the interval also stretches so that drawing never takes more
 * than that share: a frame that cost 20 ms under a 12% budget is followed by the next after 167 ms, not
 * 100. React renders after the notification (in a microtask), so the subscriber reports each frame's
 * cost itself (`reportFrameCost`); it is smoothed over the last few frames.
 */
export interface SnapshotSource<T> {
  subscribe(listener: () => void): () => void;
  getSnapshot(): T;
}

export interface ThrottledStore<T> extends SnapshotSource<T> {
  /** Notifications delivered so far (frames the console could draw). */
  readonly deliveries: number;
  /** How often the source changed over the last whole second that had changes. */
  readonly changesPerSecond: number;
  /** The smoothed cost of one frame, in ms. */
  readonly frameCostMs: number;
  /** What drawing the last snapshot cost (React render, layout and Ink's output), in ms. */
  reportFrameCost(ms: number): void;
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

export interface ThrottleOptions {
  readonly clock?: ThrottleClock;
  /** Share of one core frames may use (0.12 = 12%); unlimited when absent. */
  readonly budget?: number;
  /** The interval never grows past this, however slow the frames. */
  readonly maxIntervalMs?: number;
  /**
   * While the source changes faster than `changesPerSecond` (a storm of machines), frames take this
   * smaller budget and may stretch to this longer interval: a frame holds the thread the servers answer
   * on, and every packet that arrives during one waits for it.
   */
  readonly busy?: { readonly changesPerSecond: number; readonly budget: number; readonly maxIntervalMs: number };
}

export function throttleSnapshots<T>(source: SnapshotSource<T>, intervalMs: number, options: ThrottleOptions = {}): ThrottledStore<T> {
  const clock = options.clock ?? realClock;
  const maxIntervalMs = options.maxIntervalMs ?? 1000;
  let frameCostMs = 0;
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
  // The source's changes per second, over the last whole second that had any.
  let changesPerSecond = 0;
  let windowStart = clock.now();
  let changesInWindow = 0;
  const countChange = () => {
    const now = clock.now();
    if (now - windowStart >= 1000) {
      changesPerSecond = (changesInWindow * 1000) / (now - windowStart);
      windowStart = now;
      changesInWindow = 0;
    }
    changesInWindow += 1;
  };
  const interval = () => {
    const busy = options.busy && changesPerSecond > options.busy.changesPerSecond ? options.busy : undefined;
    const budget = busy?.budget ?? options.budget;
    if (!budget) return intervalMs;
    return Math.min(busy?.maxIntervalMs ?? maxIntervalMs, Math.max(intervalMs, frameCostMs / budget));
  };
  const onSourceChange = () => {
    countChange();
    if (timer !== undefined) return;
    const wait = lastDelivery + interval() - clock.now();
    timer = clock.setTimeout(deliver, Math.max(0, wait));
  };

  return {
    get deliveries() {
      return deliveries;
    },
    get frameCostMs() {
      return frameCostMs;
    },
    get changesPerSecond() {
      return changesPerSecond;
    },
    reportFrameCost(ms) {
      frameCostMs = frameCostMs * 0.7 + ms * 0.3;
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
