/**
 * ISO 9660 (ECMA-119) basics shared by the reader: the error every malformed image ends in, and the
 * bounds-checked field readers. A field outside its buffer is an IsoFormatError naming the image offset,
 * never a RangeError from deep inside a parser.
 */

/** The sector the volume descriptors start at; each descriptor is one 2048-byte sector. */
export const DESCRIPTOR_START = 16 * 2048;
export const DESCRIPTOR_SIZE = 2048;

export class IsoFormatError extends Error {
  constructor(
    message: string,
    /** Byte offset in the image the problem was found at. */
    readonly offset: number,
  ) {
    super(`${message} (at byte ${offset})`);
    this.name = 'IsoFormatError';
  }
}

/** A buffer read from the image, remembering where it came from so errors name image offsets. */
export class Region {
  constructor(
    readonly bytes: Uint8Array,
    /** Offset of bytes[0] in the image. */
    readonly base: number,
  ) {}

  get length(): number {
    return this.bytes.length;
  }

  fail(message: string, at: number): never {
    throw new IsoFormatError(message, this.base + at);
  }

  private need(at: number, size: number, what: string): void {
    if (at < 0 || at + size > this.bytes.length) this.fail(`${what} runs past the end of its ${this.bytes.length}-byte area`, at);
  }

  u8(at: number, what: string): number {
    this.need(at, 1, what);
    return this.bytes[at]!;
  }

  u16le(at: number, what: string): number {
    this.need(at, 2, what);
    return this.bytes[at]! | (this.bytes[at + 1]! << 8);
  }

  u32le(at: number, what: string): number {
    this.need(at, 4, what);
    return (this.bytes[at]! | (this.bytes[at + 1]! << 8) | (this.bytes[at + 2]! << 16)) + this.bytes[at + 3]! * 0x1000000;
  }

  slice(at: number, size: number, what: string): Uint8Array {
    this.need(at, size, what);
    return this.bytes.subarray(at, at + size);
  }

  sub(at: number, size: number, what: string): Region {
    return new Region(this.slice(at, size, what), this.base + at);
  }
}

/** d-/a-characters: ASCII, trailing spaces trimmed. */
export function asciiField(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : byte === 0 ? ' ' : '?';
  return text.trimEnd();
}

/** Joliet identifiers: UCS-2 big-endian. An odd trailing byte is dropped. */
export function ucs2beField(bytes: Uint8Array): string {
  let text = '';
  for (let at = 0; at + 1 < bytes.length; at += 2) text += String.fromCharCode((bytes[at]! << 8) | bytes[at + 1]!);
  return text.replace(/[\s\0]+$/, '');
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

export function utf8Field(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}
