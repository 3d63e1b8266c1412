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

export function macFromBytes(bytes: Uint8Array): Mac {
  if (bytes.length < 6) throw new RangeError(`a MAC needs 6 bytes, got ${bytes.length}`);
  return Array.from(bytes.subarray(0, 6), (b) => b.toString(16).padStart(2, '0')).join(':') as Mac;
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
