/**
 * One download's life as transfer.* events: start, progress at most once per interval (bytes and the rate
 * since the previous report), then exactly one of done or error. Counting is a number add per chunk; the
 * clock is read per chunk too, which costs far less than the chunk's copy.
 */
import type { Mac } from '../../protocol/mac.js';
import type { Emit, TransferEvent } from '../events.js';

export interface TransferIdentity {
  readonly file: string;
  readonly ip: string;
  readonly peer: string;
  readonly mac?: Mac;
  /** Body bytes this response will carry, when known (upstream downloads may not say). */
  readonly size?: number;
  readonly offset?: number;
}

export const DEFAULT_PROGRESS_INTERVAL_MS = 250;

export class TransferMeter {
  #bytes = 0;
  #startedAt = 0;
  #lastAt = 0;
  #lastBytes = 0;
  #finished = false;

  constructor(
    private readonly emit: Emit,
    private readonly identity: TransferIdentity,
    private readonly intervalMs = DEFAULT_PROGRESS_INTERVAL_MS,
  ) {}

  get bytes(): number {
    return this.#bytes;
  }

  start(): void {
    this.#startedAt = this.#lastAt = performance.now();
    this.#report('transfer.start', {});
  }

  add(count: number): void {
    this.#bytes += count;
    const now = performance.now();
    if (now - this.#lastAt < this.intervalMs) return;
    const rate = ((this.#bytes - this.#lastBytes) * 1000) / (now - this.#lastAt);
    this.#lastAt = now;
    this.#lastBytes = this.#bytes;
    this.#report('transfer.progress', { rate: Math.round(rate) });
  }

  /** `delivered` corrects the count for bytes still queued in the socket when the client went away. */
  finish(error?: string, delivered = this.#bytes): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#bytes = delivered;
    const durationMs = Math.max(0, performance.now() - this.#startedAt);
    const rate = durationMs > 0 ? Math.round((this.#bytes * 1000) / durationMs) : undefined;
    if (error === undefined) this.#report('transfer.done', { durationMs: Math.round(durationMs), ...(rate !== undefined && { rate }) });
    else this.#report('transfer.error', { durationMs: Math.round(durationMs), error });
  }

  #report(kind: TransferEvent['kind'], extra: Partial<TransferEvent>): void {
    const { file, ip, peer, mac, size, offset } = this.identity;
    this.emit({
      kind,
      time: Date.now(),
      source: 'http',
      file,
      ip,
      peer,
      bytes: this.#bytes,
      ...(mac && { mac }),
      ...(size !== undefined && { size }),
      ...(offset !== undefined && offset > 0 && { offset }),
      ...extra,
    });
  }
}
