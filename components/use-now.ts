/**
 * A clock that ticks once a second, so "stalled" and "seen 12s ago" advance while no event arrives. A
 * tick is skipped when a frame was drawn within the last second anyway (under load the snapshots
 * already redraw ten times a second): the clock adds no frames of its own then.
 */
import { useEffect, useRef, useState } from 'react';

export function useNow(intervalMs = 1000, fixed?: number): number {
  const [, setTick] = useState(0);
  const lastRender = useRef(0);
  lastRender.current = Date.now();
  useEffect(() => {
    if (fixed !== undefined) return undefined;
    const timer = setInterval(() => {
      if (Date.now() - lastRender.current < intervalMs * 0.9) return;
      setTick((tick) => tick + 1);
    }, intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs, fixed]);
  return fixed ?? Date.now();
}
