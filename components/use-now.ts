/**
 * The time the console draws for, so that "stalled" and "seen 12s ago" advance while no event arrives.
 * It is checked once a second, and a frame is drawn only when `readAt` (what the screen says that
 * depends on the time: model/time-reading.ts) reads differently than it did for the last frame.
 *
 * Why not a frame every second: Ink builds each frame anew, ~2–3 MB of short-lived objects for 80×24.
 * A frame a second kept V8 from ever finding the console idle, so its memory reducer never ran; the old
 * generation filled with promoted frame garbage for 100 s at a time (RSS 127 → 167 MiB, docs/performance.md,
 * Memory). With no frame while nothing changes, the idle console stays at 100–108 MiB. A check is skipped
 * when a frame was drawn within the last second anyway (under load the snapshots redraw ten times a second).
 */
import { useEffect, useRef, useState } from 'react';

interface LastFrame {
  readonly at: number;
  readonly readAt: (now: number) => string;
  /** `readAt(at)`, worked out at the first check after the frame, not on every frame. */
  reading?: string;
}

export function useNow(readAt: (now: number) => string, options: { readonly intervalMs?: number; readonly fixed?: number } = {}): number {
  const { intervalMs = 1000, fixed } = options;
  const [, setTick] = useState(0);
  const at = fixed ?? Date.now();
  const lastFrame = useRef<LastFrame>({ at, readAt });
  lastFrame.current = { at, readAt };
  useEffect(() => {
    if (fixed !== undefined) return undefined;
    const timer = setInterval(() => {
      const last = lastFrame.current;
      const now = Date.now();
      if (now - last.at < intervalMs * 0.9) return;
      last.reading ??= last.readAt(last.at);
      if (last.readAt(now) !== last.reading) setTick((tick) => tick + 1);
    }, intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs, fixed]);
  return at;
}
