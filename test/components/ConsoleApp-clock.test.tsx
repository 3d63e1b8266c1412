/**
 * The console's clock (components/use-now.ts): the screen follows the time, yet draws no frame while
 * nothing on it changes. Time is vitest's fake clock (Date and the interval only); Ink and React keep
 * their real timers and draw between the steps.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { render } from 'ink-testing-library';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConsoleRoot } from '../../components/ConsoleApp.js';
import { bootEvents, createConsoleFixture, mac, type ConsoleFixture } from './support/console-fixture.js';
import { keys, press, waitForFrame } from './support/ink.js';

const start = new Date('2026-03-02T09:00:00.000Z').getTime();
const handedOff = mac('52:54:00:00:00:01');
const downloading = mac('52:54:00:00:00:02');
const offered = mac('3c:fd:fe:00:00:03');
const atScript = mac('52:54:00:00:00:04');
const size = { columns: 120, rows: 40 };

describe('the console clock', () => {
  let world: ConsoleFixture;
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] });
    vi.setSystemTime(start);
    world = createConsoleFixture();
  });
  afterEach(() => {
    world.close();
    vi.useRealTimers();
  });

  /** Moves the fake clock on in one-second checks, letting the console draw after each. */
  const pass = async (seconds: number) => {
    for (let second = 0; second < seconds; second += 1) {
      vi.advanceTimersByTime(1000);
      await sleep(4);
    }
  };

  /** The frame the console draws for this moment from scratch. */
  const frameNow = async (cursorDown = 0) => {
    const fresh = render(<ConsoleRoot feed={world.feed} operator={world.operator} control={world.control} size={size} frameIntervalMs={5} now={Date.now()} />);
    await waitForFrame(fresh.lastFrame, (text) => text.includes(handedOff));
    for (let step = 0; step < cursorDown; step += 1) await press(fresh.stdin, keys.down);
    const frame = fresh.lastFrame() ?? '';
    fresh.unmount();
    return frame;
  };

  it('draws a frame when the time changes what the screen says: badges, ages, handoffs, the focused diagnosis', async () => {
    // Ages from 90 s down to 20 s, none a whole minute apart (their SEEN cells would roll over together).
    // The booted machine is the most recent, so it holds the cursor.
    for (const event of bootEvents(atScript, start - 90_000, 'script', '10.77.0.54')) world.feed.apply(event);
    for (const event of bootEvents(offered, start - 53_000, 'dhcp')) world.feed.apply(event);
    for (const event of bootEvents(downloading, start - 40_000, 'nbp-half', '10.77.0.52')) world.feed.apply(event);
    for (const event of bootEvents(handedOff, start - 25_000, 'booted', '10.77.0.51')) world.feed.apply(event);
    const live = render(<ConsoleRoot feed={world.feed} operator={world.operator} control={world.control} size={size} frameIntervalMs={5} />);
    await waitForFrame(live.lastFrame, (text) => text.includes(handedOff));

    // Second by second through the first 80 s (ages and durations in seconds, then minutes), then over two
    // stretches later on, where the detail pane's "handed off 14m ago" counts whole minutes but the SEEN
    // column rounds to the nearest, so they change at different seconds.
    const checks: number[] = [...Array.from({ length: 80 }, () => 1), 470, ...Array.from({ length: 20 }, () => 1), 270, ...Array.from({ length: 70 }, () => 1)];
    const mismatches: string[] = [];
    for (const seconds of checks) {
      await pass(seconds);
      const expected = await frameNow();
      const shown = live.lastFrame() ?? '';
      if (shown !== expected) mismatches.push(`at +${(Date.now() - start) / 1000}s the console showed\n${shown}\ninstead of\n${expected}`);
    }
    expect(mismatches.slice(0, 1)).toEqual([]);

    // The same for a machine in focus whose status sentence counts its quiet time.
    await press(live.stdin, keys.down);
    await waitForFrame(live.lastFrame, (text) => (text.split('\n').find((line) => line.includes(downloading)) ?? '').startsWith('›'));
    for (const seconds of [1, 1, 1, 30, 1, 1]) {
      await pass(seconds);
      expect(live.lastFrame()).toBe(await frameNow(1));
    }
    live.unmount();
  }, 60_000);

  it('draws nothing while nothing on the screen changes: an idle console redraws once a minute, for its clock', async () => {
    const live = render(<ConsoleRoot feed={world.feed} operator={world.operator} control={world.control} size={size} frameIntervalMs={5} />);
    await waitForFrame(live.lastFrame, (text) => text.includes('pxedeck'));
    const before = live.frames.length;
    await pass(300);
    // Five minute boundaries in five minutes; a frame a second would be 300.
    expect(live.frames.length - before).toBeLessThanOrEqual(6);
    expect(live.frames.length - before).toBeGreaterThanOrEqual(4);
    live.unmount();
  }, 30_000);
});
