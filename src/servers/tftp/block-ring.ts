/**
 * A transfer's blocks in memory: a ring of DATA packets (opcode written once, the block number at each
 * send) that the block source fills ahead of the window, with each block's length and how often it went
 * out. The ring holds blocks base … base + size − 1, where base is the first unacknowledged block.
 */
import { OPCODES } from '../../protocol/tftp/packet.js';
import type { BlockSource } from './block-source.js';

/** The most blocks one read asks for. */
const MAX_READ_BLOCKS = 1024;

export interface RingEvents {
  /** Blocks were loaded (or the last one found); `synchronously`: by a read done in place. */
  readonly onLoaded: (synchronously: boolean) => void;
  readonly onReadFailed: (error: unknown) => void;
  /** The transfer ended meanwhile: an asynchronous read's result is dropped. */
  readonly isFinished: () => boolean;
}

export class BlockRing {
  readonly size: number;
  /** Last block number; Infinity until a short read finds it when the size is unknown. */
  lastBlock: number;
  /** Highest block whose data sits in the ring. */
  loaded = 0;
  /** An asynchronous read is in flight. */
  reading = false;
  /** Reads are done in place (the thread is serving synchronously: no promise settles until it returns). */
  synchronous = false;
  private readonly lastLength: number;
  private readonly slots: Buffer[] = [];
  private readonly fullViews: Buffer[] = [];
  private readonly lengths: Int32Array;
  /** Times each block in the ring went out, saturating at 2. */
  private readonly sends: Uint8Array;

  constructor(
    private readonly source: BlockSource,
    private readonly blksize: number,
    windowsize: number,
    readaheadBytes: number,
    private readonly events: RingEvents,
  ) {
    const size = source.size;
    if (size === undefined) {
      this.lastBlock = Number.POSITIVE_INFINITY;
      this.lastLength = -1;
    } else {
      this.lastBlock = Math.floor(size / blksize) + 1;
      this.lastLength = size - (this.lastBlock - 1) * blksize;
    }
    const readahead = Math.max(1, Math.ceil(readaheadBytes / blksize));
    this.size = Math.min(windowsize + Math.max(readahead, windowsize), this.lastBlock);
    this.lengths = new Int32Array(this.size);
    this.sends = new Uint8Array(this.size);
    for (let i = 0; i < this.size; i += 1) {
      const slot = Buffer.allocUnsafe(4 + blksize);
      slot.writeUInt16BE(OPCODES.data, 0);
      this.slots.push(slot);
      this.fullViews.push(slot.subarray(4));
    }
  }

  /** The DATA packet of `block` (loaded), counted as sent once more. */
  packet(block: number): Buffer {
    const index = (block - 1) % this.size;
    const slot = this.slots[index]!;
    slot.writeUInt16BE(block & 0xffff, 2);
    if (this.sends[index]! < 2) this.sends[index] = this.sends[index]! + 1;
    const length = this.lengths[index]!;
    return length === this.blksize ? slot : slot.subarray(0, 4 + length);
  }

  /** Data bytes in `block`. */
  length(block: number): number {
    return this.lengths[(block - 1) % this.size]!;
  }

  /** Whether `block` went out more than once. */
  resent(block: number): boolean {
    return this.sends[(block - 1) % this.size]! > 1;
  }

  /**
   * Reads ahead into the slots blocks before `base` freed. Small reads wait to be batched unless the
   * window (which ends at `windowEnd`) is waiting for them.
   */
  fill(base: number, windowEnd: number): void {
    if (this.reading) return;
    const first = this.loaded + 1;
    const last = Math.min(base + this.size - 1, this.lastBlock, this.loaded + MAX_READ_BLOCKS);
    if (last < first) return;
    if (last - first + 1 < this.size / 4 && first > windowEnd) return;
    const views: Buffer[] = [];
    for (let block = first; block <= last; block += 1) {
      const index = (block - 1) % this.size;
      if (block === this.lastBlock && this.lastLength >= 0) {
        if (this.lastLength > 0) views.push(this.slots[index]!.subarray(4, 4 + this.lastLength));
      } else {
        views.push(this.fullViews[index]!);
      }
    }
    const position = (first - 1) * this.blksize;
    if (this.synchronous && this.source.readSync) {
      let count: number;
      try {
        count = views.length === 0 ? 0 : this.source.readSync(views, position);
      } catch (error) {
        this.events.onReadFailed(error);
        return;
      }
      this.loaded = this.place(first, last, count);
      this.events.onLoaded(true);
      return;
    }
    this.reading = true;
    const read = views.length === 0 ? Promise.resolve(0) : this.source.read(views, position);
    read.then(
      (count) => {
        this.reading = false;
        if (this.events.isFinished()) return;
        this.loaded = this.place(first, last, count);
        this.events.onLoaded(false);
      },
      (error: unknown) => {
        this.reading = false;
        this.events.onReadFailed(error);
      },
    );
  }

  /** Records how many bytes each block got; a short block is the last one. Returns the new `loaded`. */
  private place(first: number, last: number, count: number): number {
    let left = count;
    for (let block = first; block <= last; block += 1) {
      const wanted = block === this.lastBlock && this.lastLength >= 0 ? this.lastLength : this.blksize;
      const got = Math.min(wanted, left);
      left -= got;
      this.lengths[(block - 1) % this.size] = got;
      this.sends[(block - 1) % this.size] = 0;
      if (got < this.blksize) {
        // The end, where we expected it or earlier (the file shrank while we sent it).
        this.lastBlock = block;
        return block;
      }
    }
    return last;
  }
}
