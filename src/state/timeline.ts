/**
 * A machine's recent events, kept as JSON in bytes outside the V8 heap and decoded when read.
 *
 * Why bytes: at thousands of DHCP exchanges a second, the packet events a timeline held (each a handful of
 * small objects) were most of what each young-generation collection had to copy, twice, before promoting
 * it; that copying was most of the pause every ~100 ms (docs/performance.md). A buffer's contents are
 * neither scanned nor copied by the collector. Reading is rarer than writing — the console's rows look at
 * the newest few events of the machines on screen, the detail view and a report at one machine's — so the
 * decoding (`JSON.parse` of a line) happens there.
 *
 * A Timeline never changes: `append` returns a new one. The views share one store and each reads only its
 * own range of it; an append writes past the end of every existing view, and a full store is replaced by a
 * fresh one holding the kept events, never rewritten, so a snapshot handed out stays what it was.
 */
import { eventOfSerialised, type StoredEvent } from '../servers/event-json.js';
import type { PxedeckEvent } from '../servers/events.js';
import { STORE_HEADER, type TimelineStores } from './timeline-stores.js';

/**
 * A store is one buffer: its header (the bytes in use, a u32 at 0; timeline-stores.ts has the rest), then each
 * event as the byte lengths of its JSON and of its DHCP options (u32 each; 0 for an event without), the JSON
 * (UTF-8) and the options' bytes (serialiseEvent). Its bytes in use only grow; the views that share it each read
 * their own range below that.
 */
const HEADER = STORE_HEADER;
const LENGTHS = 8;
/**
 * A new store's least room over what it holds (stores then round up to their size class): a full store is replaced
 * after at least a quarter of its contents again in appends, so each event is copied a few times over its life.
 */
const GROWTH = 1.25;
/**
 * A first store has room for a full DHCP exchange's five events (DISCOVER, OFFER, REQUEST, ACK, the lease) as large
 * as the first, so a machine that only got an address needs one store.
 */
const FIRST_STORE_EVENTS = 5;

const emptyByLimit = new Map<number, Timeline>();

export class Timeline implements Iterable<PxedeckEvent> {
  /** An empty timeline that keeps the newest `limit` events. */
  static empty(limit: number): Timeline {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`timeline limit ${limit}: a whole number of at least 1`);
    let empty = emptyByLimit.get(limit);
    if (!empty) emptyByLimit.set(limit, (empty = new Timeline(undefined, HEADER, HEADER, 0, limit)));
    return empty;
  }

  private constructor(
    private readonly store: Buffer | undefined,
    /** Where the view's first event starts in the store. */
    private readonly start: number,
    /** Where the view's last event ends. */
    private readonly end: number,
    readonly length: number,
    private readonly limit: number,
  ) {}

  /** The registry forgets this timeline: its store may serve another (see TimelineStores.giveBack). */
  giveBackTo(stores: TimelineStores): void {
    stores.giveBack(this.store);
  }

  /** The bytes its events take in the store. */
  get byteLength(): number {
    return this.end - this.start;
  }

  /**
   * This timeline with `event` added at the end, the oldest dropped past the limit. With `stores` (the registry's),
   * a new store comes from there and the one it replaces goes back: the caller must then drop this view.
   */
  append(event: StoredEvent, stores?: TimelineStores): Timeline {
    const headSize = Buffer.byteLength(event.head);
    const optionSize = event.optionBytes?.length ?? 0;
    const size = LENGTHS + headSize + optionSize;
    let store = this.store;
    let start = this.start;
    let end = this.end;
    const kept = Math.min(this.length, this.limit - 1);
    if (kept < this.length) start += sizeAt(store!, start);
    // Appending in place is only safe at the store's end: a view behind it (an older version) forks instead.
    if (!store || end !== store.readUInt32LE(0) || end + size > store.length) {
      store = this.copyFrom(start, size, stores);
      stores?.giveBack(this.store);
      end = store.readUInt32LE(0);
      start = HEADER;
    }
    store.writeUInt32LE(headSize, end);
    store.writeUInt32LE(optionSize, end + 4);
    store.write(event.head, end + LENGTHS, 'utf8');
    event.optionBytes?.copy(store, end + LENGTHS + headSize);
    end += size;
    store.writeUInt32LE(end, 0);
    return new Timeline(store, start, end, kept + 1, this.limit);
  }

  /** The event at `index` (negative counts from the end, as Array.prototype.at). */
  at(index: number): PxedeckEvent | undefined {
    const whole = Math.trunc(index) || 0;
    const position = whole < 0 ? this.length + whole : whole;
    if (position < 0 || position >= this.length) return undefined;
    return this.decode(this.offsetOf(position));
  }

  /** Events `start` to `end` (exclusive; negative counts from the end, as Array.prototype.slice). */
  slice(start = 0, end = this.length): PxedeckEvent[] {
    const length = this.length;
    const first = Math.max(0, start < 0 ? length + start : Math.min(start, length));
    const last = Math.min(length, end < 0 ? length + end : end);
    const events: PxedeckEvent[] = [];
    for (let index = first, offset = this.offsetOf(first); index < last; index += 1) {
      events.push(this.decode(offset));
      offset += sizeAt(this.store!, offset);
    }
    return events;
  }

  [Symbol.iterator](): Iterator<PxedeckEvent> {
    return this.slice()[Symbol.iterator]();
  }

  /** As an array, so a record serialises with its events as before. */
  toJSON(): PxedeckEvent[] {
    return this.slice();
  }

  /** Where the event at `position` starts: a walk over the lengths (at most a few hundred, each a read). */
  private offsetOf(position: number): number {
    let offset = this.start;
    for (let index = 0; index < position; index += 1) offset += sizeAt(this.store!, offset);
    return offset;
  }

  private decode(offset: number): PxedeckEvent {
    const store = this.store!;
    const headStart = offset + LENGTHS;
    const optionStart = headStart + store.readUInt32LE(offset);
    const optionSize = store.readUInt32LE(offset + 4);
    // The options copied out: a decoded event may outlive this read, and must not keep the whole store alive.
    const optionBytes = optionSize > 0 ? Buffer.from(store.subarray(optionStart, optionStart + optionSize)) : undefined;
    return eventOfSerialised(store.toString('utf8', headStart, optionStart), optionBytes);
  }

  /** A new store holding the events from `start` to this view's end, with room for the next one (`nextSize`) and more. */
  private copyFrom(start: number, nextSize: number, stores: TimelineStores | undefined): Buffer {
    const keptBytes = this.end - start;
    const room = Math.ceil(Math.max((HEADER + keptBytes + nextSize) * GROWTH, HEADER + nextSize * FIRST_STORE_EVENTS));
    // Without the registry's stores (a timeline on its own), its own allocation, never reused.
    const store = stores ? stores.take(room) : Buffer.allocUnsafeSlow(room);
    if (this.store) this.store.copy(store, HEADER, start, this.end);
    store.writeUInt32LE(HEADER + keptBytes, 0);
    return store;
  }
}

/** The bytes the event at `offset` takes, its two lengths included. */
function sizeAt(store: Buffer, offset: number): number {
  return LENGTHS + store.readUInt32LE(offset) + store.readUInt32LE(offset + 4);
}
