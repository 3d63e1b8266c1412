/** perfdhcp's printed statistics and per-packet timestamps, read into figures (bench:dhcp). */
import { lateBySecond, percentile } from './latency-stats.js';

export interface ExchangeStats {
  readonly sent: number;
  readonly received: number;
  readonly drops: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  /** p99 of the exchanges sent after the run's first second: the tail without the start (a cold JIT, heaps growing). */
  readonly p99AfterFirstSecond: number;
  /** Answers later than `lateMs`, per second of the run (by when the request was sent): where the tail sits. */
  readonly lateBySecond: readonly number[];
  readonly max: number;
}

function section(text: string, title: string): string {
  const start = text.indexOf(title);
  if (start < 0) return '';
  const next = text.indexOf('***', start + title.length);
  return text.slice(start, next < 0 ? undefined : next);
}

function numberAfter(text: string, label: string): number {
  const match = text.match(new RegExp(`${label}:\\s*([\\d.]+)`));
  return match ? Number(match[1]) : Number.NaN;
}

/**
 * perfdhcp's -x t timestamps ("sent / received: 000012.345678 / 000012.346001") → delays in ms, sorted;
 * `afterSeconds` keeps only the exchanges sent that long after the first.
 */
function timestampPairs(text: string, exchange: string): (readonly [sent: number, received: number])[] {
  const block = section(text, `***Timestamps for packets: ${exchange}***`);
  return [...block.matchAll(/sent \/ received: ([\d.]+) \/ ([\d.]+)/g)].map((match) => [Number(match[1]), Number(match[2])] as const);
}

const firstSent = (pairs: readonly (readonly [number, number])[]) => pairs.reduce((earliest, [sent]) => Math.min(earliest, sent), Number.POSITIVE_INFINITY);

function delays(text: string, exchange: string, afterSeconds = 0): number[] {
  const pairs = timestampPairs(text, exchange);
  const first = firstSent(pairs);
  return pairs
    .filter(([sent]) => sent - first >= afterSeconds)
    .map(([sent, received]) => (received - sent) * 1000)
    .sort((a, b) => a - b);
}

/** How many answers came later than `lateMs`, for each second of the run (second 0 = the first). */
function lateAnswersBySecond(text: string, exchange: string, lateMs: number): number[] {
  const pairs = timestampPairs(text, exchange);
  return lateBySecond(
    pairs.map(([sent, received]) => [sent, (received - sent) * 1000] as const),
    firstSent(pairs),
    lateMs,
  );
}

/** One exchange's counts and delays from perfdhcp's output (run with `-x t`, which prints each packet's timestamps). */
export function exchangeStats(text: string, exchange: string, lateMs: number): ExchangeStats {
  const block = section(text, `***Statistics for: ${exchange}***`);
  const times = delays(text, exchange);
  return {
    sent: numberAfter(block, 'sent packets'),
    received: numberAfter(block, 'received packets'),
    drops: numberAfter(block, 'drops'),
    p50: percentile(times, 50),
    p95: percentile(times, 95),
    p99: percentile(times, 99),
    p99AfterFirstSecond: percentile(delays(text, exchange, 1), 99),
    lateBySecond: lateAnswersBySecond(text, exchange, lateMs),
    max: times.at(-1) ?? Number.NaN,
  };
}
