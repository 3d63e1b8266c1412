/**
 * Lines gathered for one write, as UTF-8 bytes in a buffer outside the JavaScript heap. The event log and
 * headless stdout gather a line per event, hundreds a turn under load: kept as strings until their write,
 * each line lived long enough to be copied by the collector at least once, and was copied again when the
 * batch was joined before being encoded. Written into the buffer as it comes, the string is garbage at once,
 * the collector never sees the bytes, and the write takes them as they are.
 */
export class LineBatch {
  private buffer: Buffer;
  private used = 0;
  private count = 0;

  constructor(private readonly initialBytes = 64 * 1024) {
    this.buffer = Buffer.allocUnsafeSlow(initialBytes);
  }

  /** Bytes gathered. */
  get byteLength(): number {
    return this.used;
  }

  /** Lines gathered. */
  get lines(): number {
    return this.count;
  }

  /** Appends `text` and a line break. */
  push(text: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit (a surrogate pair, 2 units, takes 4).
    const room = text.length * 3 + 1;
    if (this.used + room > this.buffer.length) this.grow(this.used + room);
    this.used += this.buffer.write(text, this.used, 'utf8');
    this.buffer[this.used] = 0x0a;
    this.used += 1;
    this.count += 1;
  }

  /**
   * The bytes gathered so far, copied out (a stream may keep what it is given until it is written), and
   * the batch left empty, keeping its buffer.
   */
  take(): Buffer {
    const taken = Buffer.allocUnsafe(this.used);
    this.buffer.copy(taken, 0, 0, this.used);
    // A burst (a slow disk) may have grown it: not kept that large afterwards.
    if (this.buffer.length > 4 * this.initialBytes) this.buffer = Buffer.allocUnsafeSlow(this.initialBytes);
    this.used = 0;
    this.count = 0;
    return taken;
  }

  private grow(needed: number): void {
    let size = this.buffer.length * 2;
    while (size < needed) size *= 2;
    const larger = Buffer.allocUnsafeSlow(size);
    this.buffer.copy(larger, 0, 0, this.used);
    this.buffer = larger;
  }
}
