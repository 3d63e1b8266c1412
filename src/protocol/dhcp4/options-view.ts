/**
 * A packet's options as its events carry them: the bytes, described only when somebody reads them. Every
 * DHCP packet becomes an event that the registry keeps in the machine's timeline; described at once, each
 * kept a dictionary of strings and arrays that the collector copied as long as the timeline held it, for a
 * view that is read once (serialised for the event log) or never. Kept as one buffer, an event costs the
 * collector next to nothing, and its JSON is the same (`toJSON`).
 *
 * Events read back from the event log carry the plain dictionary: `optionValue` and `optionEntries` read
 * either.
 */
import { describeValue, optionKey } from './describe.js';
import type { DhcpOptions } from './packet.js';

/** Code (1 byte), length (2 bytes: a concatenated RFC 3396 option may pass 255), value; in the packet's order. */
const ENTRY_HEAD = 3;

export class DhcpOptionsView {
  private constructor(private readonly bytes: Buffer) {}

  static of(options: DhcpOptions): DhcpOptionsView {
    let length = 0;
    options.forEach((value) => (length += ENTRY_HEAD + value.length));
    const bytes = Buffer.allocUnsafe(length);
    let at = 0;
    options.forEach((value, code) => {
      bytes[at] = code;
      bytes.writeUInt16BE(value.length, at + 1);
      value.copy(bytes, at + ENTRY_HEAD);
      at += ENTRY_HEAD + value.length;
    });
    return new DhcpOptionsView(bytes);
  }

  /** The described value under a JSON key such as "54:server-id", or undefined. */
  get(key: string): unknown {
    const code = Number.parseInt(key, 10);
    if (!(code >= 0 && code <= 255) || optionKey(code) !== key) return undefined;
    // Looked up on every packet (the registry reads option 97, the diagnosis 54): only the match is described.
    const bytes = this.bytes;
    for (let at = 0; at + ENTRY_HEAD <= bytes.length; ) {
      const length = bytes.readUInt16BE(at + 1);
      if (bytes[at] === code) return describeValue(code, bytes.subarray(at + ENTRY_HEAD, at + ENTRY_HEAD + length));
      at += ENTRY_HEAD + length;
    }
    return undefined;
  }

  toJSON(): Record<string, unknown> {
    const view: Record<string, unknown> = {};
    this.each((code, value) => (view[optionKey(code)] = describeValue(code, value)));
    return view;
  }

  private each(visit: (code: number, value: Buffer) => void): void {
    const bytes = this.bytes;
    for (let at = 0; at + ENTRY_HEAD <= bytes.length; ) {
      const length = bytes.readUInt16BE(at + 1);
      visit(bytes[at]!, bytes.subarray(at + ENTRY_HEAD, at + ENTRY_HEAD + length));
      at += ENTRY_HEAD + length;
    }
  }
}

/** What a DHCP event's `options` holds: the view (live events) or its JSON (events read back from the log). */
export type DescribedDhcpOptions = DhcpOptionsView | Readonly<Record<string, unknown>>;

export function optionValue(options: DescribedDhcpOptions, key: string): unknown {
  return options instanceof DhcpOptionsView ? options.get(key) : options[key];
}

export function optionEntries(options: DescribedDhcpOptions): Array<[string, unknown]> {
  return Object.entries(options instanceof DhcpOptionsView ? options.toJSON() : options);
}
