import { describe, expect, it } from 'vitest';
import { throttleSnapshots, type ThrottleClock } from '../../../components/model/throttled-store.js';

function fakeClock() {
  let now = 0;
  const timers: Array<{ at: number; callback: () => void; id: number }> = [];
  let nextId = 1;
  const clock: ThrottleClock = {
    now: () => now,
    setTimeout(callback, ms) {
      const timer = { at: now + ms, callback, id: nextId++ };
      timers.push(timer);
      return timer.id;
    },
    clearTimeout(handle) {
      const index = timers.findIndex((timer) => timer.id === handle);
      if (index >= 0) timers.splice(index, 1);
    },
  };
  const advance = (ms: number) => {
    const until = now + ms;
    for (;;) {
      timers.sort((a, b) => a.at - b.at);
      const due = timers[0];
      if (!due || due.at > until) break;
      timers.shift();
      now = due.at;
      due.callback();
    }
    now = until;
  };
  return { clock, advance };
}

function counterSource() {
  let value = { version: 0 };
  const listeners = new Set<() => void>();
  return {
    bump() {
      value = { version: value.version + 1 };
      for (const listener of listeners) listener();
    },
    subscribe(listener: () => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    getSnapshot: () => value,
  };
}

describe('throttled snapshots', () => {
  it('delivers at most one snapshot per interval however often the source changes', () => {
    const { clock, advance } = fakeClock();
    const source = counterSource();
    const store = throttleSnapshots(source, 100, { clock });
    let notified = 0;
    store.subscribe(() => (notified += 1));
    // 5,000 changes a second for 2 seconds, one every 0.2 ms.
    for (let tick = 0; tick < 10_000; tick += 1) {
      source.bump();
      advance(0.2);
    }
    advance(200);
    expect(notified).toBeGreaterThanOrEqual(19);
    expect(notified).toBeLessThanOrEqual(21);
    expect(store.getSnapshot().version).toBe(10_000);
  });

  it('returns the same object between notifications and the latest after one', () => {
    const { clock, advance } = fakeClock();
    const source = counterSource();
    const store = throttleSnapshots(source, 100, { clock });
    store.subscribe(() => undefined);
    const first = store.getSnapshot();
    source.bump();
    expect(store.getSnapshot()).toBe(first);
    advance(0);
    expect(store.getSnapshot().version).toBe(1);
    source.bump();
    source.bump();
    advance(50);
    expect(store.getSnapshot().version).toBe(1);
    advance(60);
    expect(store.getSnapshot().version).toBe(3);
  });

  it('stretches the interval so that frames keep within their budget of a core', () => {
    const { clock, advance } = fakeClock();
    const source = counterSource();
    const store = throttleSnapshots(source, 100, { clock, budget: 0.1 });
    let notified = 0;
    // Each frame costs 30 ms: at 10% of a core, one frame every 300 ms.
    store.subscribe(() => {
      notified += 1;
      store.reportFrameCost(30);
    });
    for (let tick = 0; tick < 3000; tick += 1) {
      source.bump();
      advance(1);
    }
    expect(notified).toBeGreaterThanOrEqual(9);
    expect(notified).toBeLessThanOrEqual(13);
    expect(store.frameCostMs).toBeGreaterThan(25);
  });

  it('in a storm of changes, gives frames the smaller budget, and the usual one back when it is over', () => {
    const { clock, advance } = fakeClock();
    const source = counterSource();
    const store = throttleSnapshots(source, 100, { clock, budget: 0.15, busy: { changesPerSecond: 500, budget: 0.01, maxIntervalMs: 2000 } });
    const frames: number[] = [];
    // 10 ms frames: every 100 ms under the usual 15 %, every second under a storm's 1 %.
    store.subscribe(() => {
      frames.push(clock.now());
      store.reportFrameCost(10);
    });
    const changes = (perSecond: number, seconds: number) => {
      for (let ms = 0; ms < seconds * 1000; ms += 1) {
        if (ms % (1000 / perSecond) === 0) source.bump();
        advance(1);
      }
    };
    changes(20, 2);
    expect(frames.length).toBeGreaterThanOrEqual(18);
    expect(store.changesPerSecond).toBe(20);
    frames.length = 0;
    changes(1000, 6);
    expect(store.changesPerSecond).toBeGreaterThan(500);
    // The first second of the storm is drawn as usual (its rate is not known yet); then one frame a second.
    expect(frames.filter((at) => at >= 3000).length).toBeGreaterThanOrEqual(4);
    expect(frames.filter((at) => at >= 3000).length).toBeLessThanOrEqual(6);
    frames.length = 0;
    changes(20, 3);
    // One frame may still wait out the storm's interval; after that, every 100 ms again.
    expect(frames.filter((at) => at >= 10_000).length).toBeGreaterThanOrEqual(9);
  });

  it('stops listening to the source when the last subscriber leaves', () => {
    const { clock, advance } = fakeClock();
    const source = counterSource();
    const store = throttleSnapshots(source, 100, { clock });
    let notified = 0;
    const unsubscribe = store.subscribe(() => (notified += 1));
    unsubscribe();
    source.bump();
    advance(500);
    expect(notified).toBe(0);
  });
});
