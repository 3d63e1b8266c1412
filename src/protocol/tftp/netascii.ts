/**
 * RFC 1350 netascii as RFC 764 defines it: LF becomes CR LF and a bare CR becomes CR NUL. Each input byte
 * maps on its own, so a stream converts chunk by chunk with no state carried between chunks.
 */
const CR = 0x0d;
const LF = 0x0a;

export function toNetascii(input: Uint8Array): Buffer {
  let extra = 0;
  for (let i = 0; i < input.length; i += 1) {
    const byte = input[i]!;
    if (byte === CR || byte === LF) extra += 1;
  }
  const out = Buffer.allocUnsafe(input.length + extra);
  let at = 0;
  for (let i = 0; i < input.length; i += 1) {
    const byte = input[i]!;
    if (byte === LF) {
      out[at++] = CR;
      out[at++] = LF;
    } else if (byte === CR) {
      out[at++] = CR;
      out[at++] = 0;
    } else {
      out[at++] = byte;
    }
  }
  return out;
}

/** The inverse, for clients and tests: CR LF → LF, CR NUL → CR; a CR before anything else stays as is. */
export function fromNetascii(input: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(input.length);
  let at = 0;
  for (let i = 0; i < input.length; i += 1) {
    const byte = input[i]!;
    const next = input[i + 1];
    if (byte === CR && next === LF) {
      out[at++] = LF;
      i += 1;
    } else if (byte === CR && next === 0) {
      out[at++] = CR;
      i += 1;
    } else {
      out[at++] = byte;
    }
  }
  return out.subarray(0, at);
}
