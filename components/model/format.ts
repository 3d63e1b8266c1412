/** Text for cells: sizes, rates, durations, fixed-width fitting. Pure, so layouts are testable to the column. */
import { terminalText } from '../../src/state/terminal-text.js';

const UNITS = ['B', 'K', 'M', 'G', 'T'] as const;

/** Compact binary sizes: 512B, 1.5K, 12M, 4.2G. */
export function formatBytes(bytes: number): string {
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 10 ? 0 : 1;
  return `${value.toFixed(digits)}${UNITS[unit]}`;
}

export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** 0.4s, 12s, 3m04s, 1h02m: how long a step took. */
export function formatDuration(ms: number): string {
  const safe = Math.max(0, ms);
  if (safe < 10_000) return `${(safe / 1000).toFixed(1)}s`;
  const seconds = Math.round(safe / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/**
 * 0.4s, 12s, 3m, 1h02m: how long something has been going on, up to now ("quiet for 3m", "handed off
 * 3m ago"). Past a minute it counts whole minutes, so a screen that shows one changes once a minute, and
 * an idle console draws a frame a minute, not a second (use-now.ts).
 */
export function formatElapsed(ms: number): string {
  const minutes = Math.floor(Math.round(Math.max(0, ms) / 1000) / 60);
  return minutes >= 1 && minutes < 60 ? `${minutes}m` : formatDuration(ms);
}

/** m:ss or h:mm:ss; "--:--" when unknown. */
export function formatEta(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '--:--';
  const whole = Math.round(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}` : `${m}:${String(s).padStart(2, '0')}`;
}

export function formatClock(time: number): string {
  const date = new Date(time);
  return [date.getHours(), date.getMinutes(), date.getSeconds()].map((part) => String(part).padStart(2, '0')).join(':');
}

/** The header's clock, "14:05": with seconds it would change the screen, and draw a frame, every second. */
export function formatHourMinute(time: number): string {
  return formatClock(time).slice(0, 5);
}

export function formatClockMs(time: number): string {
  return `${formatClock(time)}.${String(new Date(time).getMilliseconds()).padStart(3, '0')}`;
}

/** How long ago, coarse: "now", "12s", "4m", "2h". */
export function formatAgo(ms: number): string {
  if (ms < 1500) return 'now';
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)}m`;
  return `${Math.round(seconds / 3600)}h`;
}

/**
 * Anything shown in a cell passes through here: control characters (a hostile vendor class or file name
 * could carry escape sequences) become visible escapes (src/state/terminal-text.ts, the one sanitiser),
 * and characters of unknown width become "?", so one character is one column and rows line up.
 */
export function printable(text: string): string {
  return terminalText(text).replace(/[^\u0020-\u007e\u00a0-\u024f\u2000-\u206f\u2190-\u23ff\u2500-\u27bf]/gu, '?');
}

/** Exactly `width` columns: cut with an ellipsis, or padded. */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return '';
  const clean = printable(text);
  if (clean.length > width) return width === 1 ? '…' : `${clean.slice(0, width - 1)}…`;
  return align === 'left' ? clean.padEnd(width) : clean.padStart(width);
}
