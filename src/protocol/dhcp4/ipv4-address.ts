/**
 * IPv4 addresses as DHCP carries them: four bytes in a field, a dotted quad in a packet's fields and events.
 * Every packet converts a few, so none of these splits, matches a regex or makes an array.
 */

/** Most address fields of a request are empty: one shared string for them instead of a new one each. */
const UNSPECIFIED = '0.0.0.0';

/** The dotted quad at `offset`; the shared '0.0.0.0' for an empty field. */
export function bytesToAddress(buf: Uint8Array, offset = 0): string {
  const a = buf[offset]!;
  const b = buf[offset + 1]!;
  const c = buf[offset + 2]!;
  const d = buf[offset + 3]!;
  return (a | b | c | d) === 0 ? UNSPECIFIED : `${a}.${b}.${c}.${d}`;
}

/** A dotted quad as a 32-bit number, NaN when it is not one (no split, no regex: every packet needs a few). */
export function ipv4ToNumber(address: string): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < address.length; i += 1) {
    const code = address.charCodeAt(i);
    if (code === 46 && digits > 0 && dots < 3) {
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots += 1;
    } else if (code >= 48 && code <= 57 && digits < 3) {
      part = part * 10 + (code - 48);
      digits += 1;
      if (part > 255) return Number.NaN;
    } else return Number.NaN;
  }
  return dots === 3 && digits > 0 ? value * 256 + part : Number.NaN;
}

export function writeAddress(buf: Buffer, address: string, offset: number): void {
  const value = ipv4ToNumber(address);
  if (Number.isNaN(value)) throw new TypeError(`not an IPv4 address: ${JSON.stringify(address)}`);
  buf.writeUInt32BE(value, offset);
}

export function addressToBytes(address: string): Buffer {
  const buf = Buffer.allocUnsafe(4);
  writeAddress(buf, address, 0);
  return buf;
}
