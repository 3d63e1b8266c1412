/**
 * Events crossing from the servers' thread to the console's (runtime-thread.ts), in the form a timeline keeps
 * them (event-json.ts): each event's JSON head, and a DHCP packet event's options as their entry bytes. A live
 * event cannot be posted as it is: a structured clone turns its DhcpOptionsView into a bare object the console
 * cannot read, and a Buffer cut from Node's shared pool posts the whole 8 KiB pool with it. So a batch packs
 * the option bytes of all its events into one buffer of their exact size, moved to the other thread, not
 * copied; the console rebuilds each event as the timeline would read it back, and folds it without
 * serialising it again.
 */
import { eventOfSerialised, type StoredEvent } from '../servers/event-json.js';
import type { PxedeckEvent } from '../servers/events.js';

export interface EventBatch {
  readonly heads: readonly string[];
  /** Per event, the length of its option bytes in `optionBytes`, or -1 for an event without DHCP options. */
  readonly optionLengths: readonly number[];
  readonly optionBytes: ArrayBuffer;
}

const NO_OPTIONS = -1;

/** Collects events as the sink serialised them; `take()` hands over one batch and starts the next. */
export class EventBatchWriter {
  private heads: string[] = [];
  private options: Array<Buffer | undefined> = [];
  private optionSize = 0;

  /** Returns how many events the batch now holds. */
  add(event: StoredEvent): number {
    this.options.push(event.optionBytes);
    this.optionSize += event.optionBytes?.length ?? 0;
    return this.heads.push(event.head);
  }

  get size(): number {
    return this.heads.length;
  }

  /** The batch, and what to move with it (`postMessage(message, transfer)`). */
  take(): { readonly batch: EventBatch; readonly transfer: ArrayBuffer[] } {
    const optionBytes = new ArrayBuffer(this.optionSize);
    const packed = Buffer.from(optionBytes);
    const optionLengths: number[] = [];
    let at = 0;
    for (const bytes of this.options) {
      if (!bytes) {
        optionLengths.push(NO_OPTIONS);
        continue;
      }
      at += bytes.copy(packed, at);
      optionLengths.push(bytes.length);
    }
    const batch = { heads: this.heads, optionLengths, optionBytes };
    this.heads = [];
    this.options = [];
    this.optionSize = 0;
    return { batch, transfer: [optionBytes] };
  }
}

/** Each event of `batch`, in order, live (options readable) and in the form a timeline keeps. */
export function readEventBatch(batch: EventBatch, visit: (event: PxedeckEvent, stored: StoredEvent) => void): void {
  const { heads, optionLengths } = batch;
  if (heads.length !== optionLengths.length) throw new Error(`an event batch with ${heads.length} events and ${optionLengths.length} option lengths`);
  let at = 0;
  for (let index = 0; index < heads.length; index += 1) {
    const length = optionLengths[index]!;
    if (length !== NO_OPTIONS && at + length > batch.optionBytes.byteLength) throw new Error(`an event batch whose option lengths pass its ${batch.optionBytes.byteLength} bytes`);
    const optionBytes = length === NO_OPTIONS ? undefined : Buffer.from(batch.optionBytes, at, length);
    if (optionBytes) at += length;
    const head = heads[index]!;
    visit(eventOfSerialised(head, optionBytes), { head, optionBytes });
  }
}
