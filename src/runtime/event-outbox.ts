/**
 * The servers' events on their way to the console, with a bound on how far the console may fall behind.
 * The console folds every event on its own thread, which gives way to the servers' (thread-priority.ts): a
 * flood that the servers answer (hostile or broken machines, thousands of packets a second on one core) can
 * outrun it, and every event posted and not yet folded waits in memory. So the console tells the worker what
 * it has folded, and past `limit` events in flight the next ones are left out of the console. They stay
 * where they always are — the servers' registry (boot decisions), the event log (`pxedeck report MAC`) —
 * and once the console is halfway back, it is told how many it missed.
 */
import { serialiseEvent, type StoredEvent } from '../servers/event-json.js';
import { EventBatchWriter, type EventBatch } from './event-batch.js';

/** ~450 bytes of JSON each: 20–25 MB waiting at most; at 4000 DORA/s (16,000 events a second) 3 s behind. */
export const CONSOLE_BACKLOG_LIMIT = 50_000;

export function leftOutNotice(count: number, limit: number): string {
  return `the console fell ${limit.toLocaleString('en-US')} events behind the servers and left ${count.toLocaleString('en-US')} out; the event log has every one (pxedeck report MAC)`;
}

export class EventOutbox {
  private readonly writer = new EventBatchWriter();
  private unfolded = 0;
  private leftOut = 0;

  constructor(
    private readonly limit = CONSOLE_BACKLOG_LIMIT,
    private readonly now: () => number = Date.now,
  ) {}

  /** Queues an event for the next batch; false when it was left out. */
  add(event: StoredEvent): boolean {
    if (this.unfolded + this.writer.size >= this.limit) {
      this.leftOut += 1;
      return false;
    }
    this.writer.add(event);
    return true;
  }

  /** Events queued and not yet taken. */
  get pending(): number {
    return this.writer.size;
  }

  /** The next batch (undefined when none is queued); its events count as in flight until `folded`. */
  take(): { readonly batch: EventBatch; readonly transfer: ArrayBuffer[] } | undefined {
    if (this.writer.size === 0) return undefined;
    this.unfolded += this.writer.size;
    return this.writer.take();
  }

  /** The console folded `count` more events. Once it is halfway back, a notice of what it missed is queued. */
  folded(count: number): void {
    this.unfolded = Math.max(0, this.unfolded - count);
    if (this.leftOut === 0 || this.unfolded + this.writer.size > this.limit / 2) return;
    const message = leftOutNotice(this.leftOut, this.limit);
    this.leftOut = 0;
    this.writer.add(serialiseEvent({ kind: 'notice', time: this.now(), source: 'system', level: 'warning', message }));
  }
}
