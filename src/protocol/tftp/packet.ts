/**
 * TFTP packets (RFC 1350, options and OACK from RFC 2347) as plain objects, with the dns-packet triple:
 * `encode`, `decode`, `encodingLength`. Strings travel as latin1 so every byte round-trips exactly; the
 * server decides what a file name means.
 */

export const OPCODES = { rrq: 1, wrq: 2, data: 3, ack: 4, error: 5, oack: 6 } as const;
export type Opcode = keyof typeof OPCODES;

/** RFC 1350 error codes, plus 8 from RFC 2347 (option negotiation refused). */
export const ERROR_CODES = {
  notDefined: 0,
  fileNotFound: 1,
  accessViolation: 2,
  diskFull: 3,
  illegalOperation: 4,
  unknownTransferId: 5,
  fileExists: 6,
  noSuchUser: 7,
  optionRefused: 8,
} as const;
export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

/** One option as it appeared on the wire: names keep their case, order is kept. */
export interface TftpOption {
  readonly name: string;
  readonly value: string;
}

export interface RequestPacket {
  readonly type: 'rrq' | 'wrq';
  readonly filename: string;
  readonly mode: string;
  readonly options: readonly TftpOption[];
}

export interface DataPacket {
  readonly type: 'data';
  /** The 16-bit wire block number (wraps). */
  readonly block: number;
  readonly data: Uint8Array;
}

export interface AckPacket {
  readonly type: 'ack';
  readonly block: number;
}

export interface ErrorPacket {
  readonly type: 'error';
  readonly code: number;
  readonly message: string;
}

export interface OackPacket {
  readonly type: 'oack';
  readonly options: readonly TftpOption[];
}

export type TftpPacket = RequestPacket | DataPacket | AckPacket | ErrorPacket | OackPacket;

export class TftpDecodeError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at offset ${offset}`);
    this.name = 'TftpDecodeError';
  }
}

const OPCODE_NAMES: Readonly<Record<number, Opcode>> = {
  1: 'rrq',
  2: 'wrq',
  3: 'data',
  4: 'ack',
  5: 'error',
  6: 'oack',
};

function stringLength(text: string): number {
  return text.length + 1;
}

function optionsLength(options: readonly TftpOption[]): number {
  let length = 0;
  for (const option of options) length += stringLength(option.name) + stringLength(option.value);
  return length;
}

export function encodingLength(packet: TftpPacket): number {
  switch (packet.type) {
    case 'rrq':
    case 'wrq':
      return 2 + stringLength(packet.filename) + stringLength(packet.mode) + optionsLength(packet.options);
    case 'data':
      return 4 + packet.data.length;
    case 'ack':
      return 4;
    case 'error':
      return 4 + stringLength(packet.message);
    case 'oack':
      return 2 + optionsLength(packet.options);
  }
}

function checkString(text: string, what: string): void {
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code === 0 || code > 0xff) throw new RangeError(`${what} cannot carry character ${code} (index ${i})`);
  }
}

function writeString(buffer: Buffer, offset: number, text: string, what: string): number {
  checkString(text, what);
  buffer.write(text, offset, 'latin1');
  buffer[offset + text.length] = 0;
  return offset + text.length + 1;
}

function writeOptions(buffer: Buffer, offset: number, options: readonly TftpOption[]): number {
  let at = offset;
  for (const option of options) {
    if (option.name.length === 0) throw new RangeError('an option name cannot be empty');
    at = writeString(buffer, at, option.name, 'option name');
    at = writeString(buffer, at, option.value, 'option value');
  }
  return at;
}

function checkBlock(block: number): void {
  if (!Number.isInteger(block) || block < 0 || block > 0xffff) throw new RangeError(`block ${block} is not 0–65535`);
}

/** Writes `packet` into `buffer` (allocated when omitted) at `offset`; returns the buffer. */
export function encode(packet: TftpPacket, buffer?: Buffer, offset = 0): Buffer {
  const length = encodingLength(packet);
  const out = buffer ?? Buffer.allocUnsafe(length + offset);
  if (out.length - offset < length) throw new RangeError(`need ${length} bytes at offset ${offset}, have ${out.length - offset}`);
  out.writeUInt16BE(OPCODES[packet.type], offset);
  let at = offset + 2;
  switch (packet.type) {
    case 'rrq':
    case 'wrq':
      if (packet.filename.length === 0) throw new RangeError('a request needs a file name');
      at = writeString(out, at, packet.filename, 'file name');
      at = writeString(out, at, packet.mode, 'mode');
      writeOptions(out, at, packet.options);
      break;
    case 'data':
      checkBlock(packet.block);
      out.writeUInt16BE(packet.block, at);
      out.set(packet.data, at + 2);
      break;
    case 'ack':
      checkBlock(packet.block);
      out.writeUInt16BE(packet.block, at);
      break;
    case 'error':
      if (!Number.isInteger(packet.code) || packet.code < 0 || packet.code > 0xffff) {
        throw new RangeError(`error code ${packet.code} is not 0–65535`);
      }
      out.writeUInt16BE(packet.code, at);
      writeString(out, at + 2, packet.message, 'error message');
      break;
    case 'oack':
      writeOptions(out, at, packet.options);
      break;
  }
  return out;
}

/** Reads a NUL-terminated latin1 string starting at `offset`; returns it and the offset after the NUL. */
function readString(bytes: Uint8Array, offset: number, what: string): [string, number] {
  const end = bytes.indexOf(0, offset);
  if (end < 0) throw new TftpDecodeError(`${what} has no terminating NUL`, offset);
  return [Buffer.from(bytes.buffer, bytes.byteOffset + offset, end - offset).toString('latin1'), end + 1];
}

/**
 * Options until the end of the packet. A NUL where a name should start ends the list: some ROMs pad their
 * requests with zeros, and a zero-length name is not an option anyone can mean.
 */
function readOptions(bytes: Uint8Array, offset: number): TftpOption[] {
  const options: TftpOption[] = [];
  let at = offset;
  while (at < bytes.length) {
    if (bytes[at] === 0) {
      for (let pad = at; pad < bytes.length; pad += 1) {
        if (bytes[pad] !== 0) throw new TftpDecodeError('data after an empty option name', pad);
      }
      break;
    }
    const [name, afterName] = readString(bytes, at, 'option name');
    if (afterName >= bytes.length) throw new TftpDecodeError(`option ${JSON.stringify(name)} has no value`, afterName);
    const [value, afterValue] = readString(bytes, afterName, `value of option ${JSON.stringify(name)}`);
    options.push({ name, value });
    at = afterValue;
  }
  return options;
}

export function decode(input: Uint8Array): TftpPacket {
  if (input.length < 2) throw new TftpDecodeError(`packet of ${input.length} bytes has no opcode`, 0);
  const view = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.length);
  const opcode = view.readUInt16BE(0);
  const type = OPCODE_NAMES[opcode];
  switch (type) {
    case 'rrq':
    case 'wrq': {
      const [filename, afterName] = readString(view, 2, 'file name');
      if (filename.length === 0) throw new TftpDecodeError('empty file name', 2);
      if (afterName >= view.length) throw new TftpDecodeError('request has no mode', afterName);
      const [mode, afterMode] = readString(view, afterName, 'mode');
      if (mode.length === 0) throw new TftpDecodeError('empty mode', afterName);
      return { type, filename, mode, options: readOptions(view, afterMode) };
    }
    case 'data':
      if (view.length < 4) throw new TftpDecodeError('DATA without a block number', 2);
      return { type, block: view.readUInt16BE(2), data: view.subarray(4) };
    case 'ack':
      if (view.length < 4) throw new TftpDecodeError('ACK without a block number', 2);
      // Bytes after the block number carry nothing; refusing them would only stall a quirky client.
      return { type, block: view.readUInt16BE(2) };
    case 'error': {
      if (view.length < 4) throw new TftpDecodeError('ERROR without a code', 2);
      const code = view.readUInt16BE(2);
      // Several stacks omit the final NUL of the message; the message is only ever shown, so take it as is.
      const end = view.indexOf(0, 4);
      const message = view.toString('latin1', 4, end < 0 ? view.length : end);
      return { type, code, message };
    }
    case 'oack':
      return { type, options: readOptions(view, 2) };
  }
  throw new TftpDecodeError(`unknown opcode ${opcode}`, 0);
}

/** Writes the 4-byte DATA header in place: the hot path of the server avoids `encode` for DATA. */
export function writeDataHeader(buffer: Buffer, block: number): void {
  buffer.writeUInt16BE(OPCODES.data, 0);
  buffer.writeUInt16BE(block & 0xffff, 2);
}
