/**
 * One canonical MAC form — lower-case, colon-separated — and every other spelling converts through it.
 */
export type Mac = string & { readonly __brand: 'Mac' };

const HEX_PAIRS = /^[0-9a-f]{12}$/;

/** Parses any common spelling (colons, hyphens, dots, bare hex, PXELINUX's `01-` prefix); null when it is not a MAC. */
export function parseMac(text: string): Mac | null {
  let compact = text.trim().toLowerCase();
  if (/^01-([0-9a-f]{2}-){5}[0-9a-f]{2}$/.test(compact)) compact = compact.slice(3);
  compact = compact.replace(/[:\-.]/g, '');
  if (!HEX_PAIRS.test(compact)) return null;
  return compact.match(/../g)!.join(':') as Mac;
}

const HEX_BYTES = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

/** Runs for every DHCP packet: a table look-up per byte, nothing else allocated. */
export function macFromBytes(bytes: Uint8Array): Mac {
  if (bytes.length < 6) throw new RangeError(`a MAC needs 6 bytes, got ${bytes.length}`);
  return `${HEX_BYTES[bytes[0]!]}:${HEX_BYTES[bytes[1]!]}:${HEX_BYTES[bytes[2]!]}:${HEX_BYTES[bytes[3]!]}:${HEX_BYTES[bytes[4]!]}:${HEX_BYTES[bytes[5]!]}` as Mac;
}

export function macToBytes(mac: Mac): Buffer {
  return Buffer.from(mac.replace(/:/g, ''), 'hex');
}

/** `01-aa-bb-cc-dd-ee-ff`: the name PXELINUX asks for under pxelinux.cfg/. */
export function macToPxelinuxName(mac: Mac): string {
  return `01-${mac.replace(/:/g, '-')}`;
}

/** `aa-bb-cc-dd-ee-ff`: iPXE's `${mac:hexhyp}`. */
export function macToHexHyphen(mac: Mac): string {
  return mac.replace(/:/g, '-');
}

/**
 * The MAC inside an IPv6 address formed by SLAAC from it (modified EUI-64: `…:5054:77ff:fe3f:4501` is
 * 52:54:77:3f:45:01), or null when the interface identifier is not of that form (a DHCPv6 or privacy address).
 */
export function macFromEui64(address: string): Mac | null {
  const groups = expandIpv6(address.replace(/%.*$/, ''));
  if (!groups) return null;
  const [a, b, c, d] = groups.slice(4);
  if ((b! & 0xff) !== 0xff || c! >> 8 !== 0xfe) return null;
  return macFromBytes(Uint8Array.from([(a! >> 8) ^ 0x02, a! & 0xff, b! >> 8, c! & 0xff, d! >> 8, d! & 0xff]));
}

/** The eight 16-bit groups of an IPv6 address in text, or null. */
function expandIpv6(text: string): number[] | null {
  if (!/^[0-9a-f:]+$/i.test(text) || text.split('::').length > 2) return null;
  const [head = '', tail] = text.split('::');
  const part = (side: string) => (side === '' ? [] : side.split(':'));
  const front = part(head);
  const back = tail === undefined ? [] : part(tail);
  const missing = 8 - front.length - back.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return null;
  const all = [...front, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...back];
  if (all.some((group) => !/^[0-9a-f]{1,4}$/i.test(group))) return null;
  return all.map((group) => Number.parseInt(group, 16));
}

