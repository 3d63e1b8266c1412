/**
 * Where a transfer's bytes come from. Reads are sequential and land directly in the transfer's packet
 * buffers (one `readv` fills many blocks), so a file is streamed, never loaded whole.
 */
import { readv, readvSync } from 'node:fs';
import { toNetascii } from '../../protocol/tftp/netascii.js';

export interface BlockSource {
  /** Bytes on the wire when known up front (not for netascii, whose size differs from the file's). */
  readonly size: number | undefined;
  /** Fills `views` in order from byte `position`; returns the bytes read, fewer only at the end. */
  read(views: readonly Buffer[], position: number): Promise<number>;
  /** The same, blocking the thread; absent where a source can only read asynchronously. */
  readSync?(views: readonly Buffer[], position: number): number;
  close(): Promise<void>;
}

/** Linux refuses more iovecs per readv (IOV_MAX). */
const MAX_IOVECS = 1024;

function readvAt(fd: number, views: readonly Buffer[], position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    readv(fd, views as Buffer[], position, (error, bytesRead) => (error ? reject(error) : resolve(bytesRead)));
  });
}

/**
 * A file by descriptor. The descriptor belongs to whoever opened it (the server's main thread, which
 * checked confinement): a transfer running in a worker thread reads through the same descriptor and
 * leaves closing it to its owner.
 */
export class FdSource implements BlockSource {
  constructor(
    private readonly fd: number,
    readonly size: number,
    /** Where the bytes start in the file (a file inside an ISO image is a range of the image). */
    private readonly offset = 0,
  ) {}

  async read(views: readonly Buffer[], position: number): Promise<number> {
    const plan = readPlan(this.limited(views, position), this.offset + position);
    let step = plan.next();
    while (!step.done) step = plan.next(await readvAt(this.fd, step.value.views, step.value.position));
    return step.value;
  }

  readSync(views: readonly Buffer[], position: number): number {
    const plan = readPlan(this.limited(views, position), this.offset + position);
    let step = plan.next();
    while (!step.done) step = plan.next(readvSync(this.fd, step.value.views, step.value.position));
    return step.value;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Past `size` the descriptor's file goes on (the rest of the image): the views stop at the end. */
  private limited(views: readonly Buffer[], position: number): readonly Buffer[] {
    if (this.offset === 0) return views;
    let room = Math.max(0, this.size - position);
    const kept: Buffer[] = [];
    for (const view of views) {
      if (room === 0) break;
      kept.push(view.length <= room ? view : view.subarray(0, room));
      room -= Math.min(room, view.length);
    }
    return kept;
  }
}

/**
 * The readv calls that fill `views` from `position`: yields each call's buffers and offset, is given the
 * bytes it read, returns the total. At most IOV_MAX buffers per call; readv may stop short of the request
 * without reaching the end, so only a read of 0 means the end.
 */
function* readPlan(views: readonly Buffer[], position: number): Generator<{ views: Buffer[]; position: number }, number, number> {
  let total = 0;
  for (let first = 0; first < views.length; first += MAX_IOVECS) {
    const batch = views.slice(first, first + MAX_IOVECS);
    const wanted = batch.reduce((sum, view) => sum + view.length, 0);
    let got = 0;
    while (got < wanted) {
      const count = yield { views: got === 0 ? batch : remainder(batch, got), position: position + total + got };
      if (count === 0) return total + got;
      got += count;
    }
    total += got;
  }
  return total;
}

function remainder(views: readonly Buffer[], skip: number): Buffer[] {
  const rest: Buffer[] = [];
  let left = skip;
  for (const view of views) {
    if (left >= view.length) {
      left -= view.length;
      continue;
    }
    rest.push(left > 0 ? view.subarray(left) : view);
    left = 0;
  }
  return rest;
}

export class MemorySource implements BlockSource {
  readonly size: number;

  constructor(private readonly content: Buffer) {
    this.size = content.length;
  }

  read(views: readonly Buffer[], position: number): Promise<number> {
    return Promise.resolve(this.readSync(views, position));
  }

  readSync(views: readonly Buffer[], position: number): number {
    let at = position;
    for (const view of views) {
      if (at >= this.content.length) break;
      at += this.content.copy(view, 0, at, Math.min(this.content.length, at + view.length));
    }
    return at - position;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

const NETASCII_CHUNK = 64 * 1024;

/** Converts another source to netascii on the fly; sizes are unknown, reads must follow each other. */
export class NetasciiSource implements BlockSource {
  readonly size = undefined;
  private pending: Buffer = Buffer.alloc(0);
  private pendingAt = 0;
  private rawPosition = 0;
  private rawDone = false;
  private position = 0;
  private readonly chunk = Buffer.allocUnsafe(NETASCII_CHUNK);

  constructor(private readonly raw: BlockSource) {}

  async read(views: readonly Buffer[], position: number): Promise<number> {
    if (position !== this.position) throw new Error(`netascii reads are sequential: asked ${position}, at ${this.position}`);
    let total = 0;
    for (const view of views) {
      let filled = 0;
      while (filled < view.length) {
        if (this.pendingAt >= this.pending.length) {
          if (this.rawDone) break;
          await this.refill();
          continue;
        }
        const end = Math.min(this.pending.length, this.pendingAt + view.length - filled);
        filled += this.pending.copy(view, filled, this.pendingAt, end);
        this.pendingAt = end;
      }
      total += filled;
      if (filled < view.length) break;
    }
    this.position += total;
    return total;
  }

  private async refill(): Promise<void> {
    const count = await this.raw.read([this.chunk], this.rawPosition);
    if (count === 0) {
      this.rawDone = true;
      return;
    }
    this.rawPosition += count;
    this.pending = toNetascii(this.chunk.subarray(0, count));
    this.pendingAt = 0;
  }

  close(): Promise<void> {
    return this.raw.close();
  }
}
