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

/**
 * `"key":value` JSON of options seen before, by their bytes. Most of a packet's options are the same in
 * every packet of a segment (message type, server id, lease times, the firmware's parameter list and vendor
 * class): described and serialised once, each is a hash and a compare afterwards, with nothing allocated.
 * Options that name one client (its requested address, client id, UUID, host name, relay agent data) would
 * only fill the cache, so they are described every time; and the cache is bounded, emptied when full.
 */
interface CachedFragment {
  /** The option's entry (code, length, value) it was made from. */
  readonly entry: Buffer;
  readonly fragment: string;
}
const fragments = new Map<number, CachedFragment>();
const MAX_CACHED_FRAGMENTS = 2048;
const MAX_CACHED_VALUE_BYTES = 64;
const PER_CLIENT_OPTIONS = new Set<number>([12, 50, 61, 81, 82, 97]);

function describedFragment(code: number, value: Buffer): string {
  const described = describeValue(code, value);
  return described === undefined ? '' : `${JSON.stringify(optionKey(code))}:${JSON.stringify(described)}`;
}

/** FNV-1a over bytes[start, end). */
function hashOf(bytes: Buffer, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let at = start; at < end; at += 1) hash = Math.imul(hash ^ bytes[at]!, 0x01000193);
  return hash >>> 0;
}

function sameBytes(entry: Buffer, bytes: Buffer, start: number, end: number): boolean {
  if (entry.length !== end - start) return false;
  for (let at = start; at < end; at += 1) if (entry[at - start] !== bytes[at]) return false;
  return true;
}

/** The fragment of the entry at bytes[start, end). */
function fragmentAt(bytes: Buffer, start: number, end: number): string {
  const code = bytes[start]!;
  if (end - start - ENTRY_HEAD > MAX_CACHED_VALUE_BYTES || PER_CLIENT_OPTIONS.has(code)) {
    return describedFragment(code, bytes.subarray(start + ENTRY_HEAD, end));
  }
  const hash = hashOf(bytes, start, end);
  const cached = fragments.get(hash);
  if (cached && sameBytes(cached.entry, bytes, start, end)) return cached.fragment;
  const fragment = describedFragment(code, bytes.subarray(start + ENTRY_HEAD, end));
  if (fragments.size >= MAX_CACHED_FRAGMENTS) fragments.clear();
  fragments.set(hash, { entry: Buffer.from(bytes.subarray(start, end)), fragment });
  return fragment;
}

export class DhcpOptionsView {
  private constructor(private readonly bytes: Buffer) {}

  /** A view of entries as `entryBytes` gives them (how a machine's timeline keeps a packet's options). */
  static ofEntries(entryBytes: Buffer): DhcpOptionsView {
    return new DhcpOptionsView(entryBytes);
  }

  /** The entries (code, 2-byte length, value; in the packet's order): the options in their most compact form. */
  get entryBytes(): Buffer {
    return this.bytes;
  }

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

  /**
   * The same text as `JSON.stringify(view)`, without building the dictionary: the event log and headless
   * stdout serialise every packet's options, and the dictionary (strings, arrays, the walk over them) was
   * about a fifth of what the DHCP path allocated at 4000 exchanges a second.
   */
  json(): string {
    let text = '';
    this.each((start, end) => {
      const fragment = fragmentAt(this.bytes, start, end);
      if (fragment) text += text ? `,${fragment}` : fragment;
    });
    return `{${text}}`;
  }

  toJSON(): Record<string, unknown> {
    const view: Record<string, unknown> = {};
    this.each((start, end) => {
      const code = this.bytes[start]!;
      view[optionKey(code)] = describeValue(code, this.bytes.subarray(start + ENTRY_HEAD, end));
    });
    return view;
  }

  /** Visits each option's entry (code, length, value) as its bounds in `bytes`, in the packet's order. */
  private each(visit: (start: number, end: number) => void): void {
    const bytes = this.bytes;
    for (let at = 0; at + ENTRY_HEAD <= bytes.length; ) {
      const end = at + ENTRY_HEAD + bytes.readUInt16BE(at + 1);
      visit(at, end);
      at = end;
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
