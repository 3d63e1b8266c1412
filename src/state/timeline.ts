/**
 * A machine's recent events, kept as their JSON lines in bytes outside the V8 heap and decoded when read.
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
import type { PxedeckEvent } from '../servers/events.js';

/**
 * A store is one buffer: the bytes in use (a u32 at 0), then each event as its line's length (u32) and the
 * line. Its bytes in use only grow, and the views that share it each read their own range below that.
 */
const HEADER = 4;
const LENGTH = 4;
/** A store's first size: four or five DHCP events, small enough to come from Node's buffer pool. */
const FIRST_STORE_BYTES = 2048;
const FIRST_STORE_EVENTS = 8;

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

  /** This timeline with the event whose JSON line is `json` added at the end, the oldest dropped past the limit. */
  append(json: string): Timeline {
    const size = Buffer.byteLength(json);
    let store = this.store;
    let start = this.start;
    let end = this.end;
    const kept = Math.min(this.length, this.limit - 1);
    if (kept < this.length) start += LENGTH + store!.readUInt32LE(start);
    // Appending in place is only safe at the store's end: a view behind it (an older version) forks instead.
    if (!store || end !== store.readUInt32LE(0) || end + LENGTH + size > store.length) {
      store = this.copyFrom(start, kept, size);
      end = store.readUInt32LE(0);
      start = HEADER;
    }
    store.writeUInt32LE(size, end);
    store.write(json, end + LENGTH, 'utf8');
    end += LENGTH + size;
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
      offset += LENGTH + this.store!.readUInt32LE(offset);
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
    for (let index = 0; index < position; index += 1) offset += LENGTH + this.store!.readUInt32LE(offset);
    return offset;
  }

  private decode(offset: number): PxedeckEvent {
    const store = this.store!;
    const lineStart = offset + LENGTH;
    return JSON.parse(store.toString('utf8', lineStart, lineStart + store.readUInt32LE(offset))) as PxedeckEvent;
  }

  /**
   * A new store holding the `kept` events from `start` to this view's end, with room for the next one and
   * the events after it: about a quarter of the limit at steady state, so a store is replaced once per that
   * many appends and each event is copied a bounded number of times.
   */
  private copyFrom(start: number, kept: number, nextSize: number): Buffer {
    const keptBytes = this.end - start;
    const eventRoom = Math.min(this.limit + Math.max(4, this.limit >> 2), Math.max(FIRST_STORE_EVENTS, (kept + 1) * 2));
    const averageSize = (keptBytes + LENGTH + nextSize) / (kept + 1);
    const room = Math.max(FIRST_STORE_BYTES, HEADER + keptBytes + LENGTH + nextSize, Math.ceil(HEADER + averageSize * eventRoom * 1.25));
    const store = Buffer.allocUnsafe(room);
    if (this.store) this.store.copy(store, HEADER, start, this.end);
    store.writeUInt32LE(HEADER + keptBytes, 0);
    return store;
  }
}
