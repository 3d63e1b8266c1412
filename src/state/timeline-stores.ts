/**
 * Where timelines get their store buffers, and where a store nobody outside the registry can hold goes back.
 *
 * Why: a store is an ArrayBuffer, and V8 counts every ArrayBuffer allocated since its last full collection
 * against the old generation's limit. Under a burst of new machines each one's store lives a few hundred
 * milliseconds (the registry forgets the least recently seen), long enough to be promoted, so their bytes
 * piled up at ~7 MB/s at 4000 DHCP exchanges a second and started a full collection every 3–4 s
 * (docs/performance.md). A store whose machine is forgotten, or that its timeline outgrew, is handed to the
 * next machine instead — but only if no snapshot or record was handed out since the store was made: a view
 * given to the console must keep reading what it read, so a store anyone may have seen is left to the collector.
 *
 * Stores come in sizes a half power of two apart (512, 724, 1024, 1448…) so that a returned one fits the next
 * request of its size class, at most 41 % over what was asked.
 */

/** Each store starts with the bytes in use (u32) and the look it was made after (u32); the timeline writes both. */
export const STORE_HEADER = 8;
const BORN_AT = 4;
/** Size class k holds stores of ⌊2^(k/2)⌋ bytes. */
const SMALLEST_CLASS = 18; // 512 bytes
/** Larger stores are rare (a machine with a long history): made to measure and left to the collector, as before. */
const LARGEST_CLASS = 32; // 64 KiB
const classOf = (size: number) => Math.max(SMALLEST_CLASS, Math.ceil(2 * Math.log2(size)));
const sizeOf = (sizeClass: number) => Math.floor(2 ** (sizeClass / 2));
/** What may wait to be reused: after a burst the registry stops forgetting machines, and this is all that stays. */
const MAX_POOLED_BYTES = 2 * 1024 * 1024;

export class TimelineStores {
  /** How many times the registry handed records out; a store made since the last time has not been seen. */
  private looks = 0;
  /**
   * Per size class, made with its first store in it: an empty list starts out as a list of small integers in
   * V8, and the real registry's lists are made before the DHCP warm-up trains this code, so each class's first
   * store would change its list's kind and throw the compiled code away under the first real burst.
   */
  private readonly free: Array<Buffer[] | undefined> = Array.from({ length: LARGEST_CLASS + 1 }, () => undefined);
  private pooledBytes = 0;
  readonly stats = { made: 0, reused: 0, returned: 0 };

  /** Called whenever records leave the registry (a snapshot, a `get`): every existing store may now be held outside. */
  lookedAt(): void {
    this.looks = (this.looks + 1) >>> 0;
  }

  /** A store of at least `size` bytes, its header's "made after" set; its "bytes in use" is the caller's to write. */
  take(size: number): Buffer {
    const sizeClass = classOf(size);
    const pooled = sizeClass <= LARGEST_CLASS ? this.free[sizeClass]?.pop() : undefined;
    let store: Buffer;
    if (pooled) {
      this.pooledBytes -= pooled.length;
      this.stats.reused += 1;
      store = pooled;
    } else {
      // Its own allocation, not a slice of Node's shared pool: a long-lived machine's small store would keep the
      // whole 8 KiB pool slab it was cut from alive. Its class's size where it may come back; where it never
      // will (past the largest class), just what was asked.
      store = Buffer.allocUnsafeSlow(sizeClass <= LARGEST_CLASS ? sizeOf(sizeClass) : size);
      this.stats.made += 1;
    }
    store.writeUInt32LE(this.looks, BORN_AT);
    return store;
  }

  /**
   * The registry no longer refers to `store` (its machine was forgotten, or a new store replaced it). It is reused
   * if nothing was handed out since it was made; otherwise a view of it may be on screen, and the collector decides.
   */
  giveBack(store: Buffer | undefined): void {
    if (!store || store.readUInt32LE(BORN_AT) !== this.looks) return;
    const sizeClass = classOf(store.length);
    if (sizeClass > LARGEST_CLASS || sizeOf(sizeClass) !== store.length || this.pooledBytes + store.length > MAX_POOLED_BYTES) return;
    // Marked as seen, so a second give-back of the same store (a bug elsewhere) cannot pool it twice.
    store.writeUInt32LE((this.looks - 1) >>> 0, BORN_AT);
    const list = this.free[sizeClass];
    if (list) list.push(store);
    else this.free[sizeClass] = [store];
    this.pooledBytes += store.length;
    this.stats.returned += 1;
  }
}
