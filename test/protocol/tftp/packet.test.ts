import { describe, expect, it } from 'vitest';
import { decode, encode, encodingLength, TftpDecodeError, type TftpPacket } from '../../../src/protocol/tftp/packet.js';

/** Requests as the real clients sent them (captured on loopback with a bare UDP listener). */
const CAPTURED = {
  'curl --tftp-blksize 1468':
    '00017078656c696e75782e30006f63746574007473697a65003000626c6b73697a6500313436380074696d656f7574003600',
  'curl (default)': '00017078656c696e75782e30006f63746574007473697a65003000626c6b73697a65003531320074696d656f7574003600',
  'atftp blksize 1468 windowsize 4 tsize':
    '00017078656c696e75782e30006f63746574007473697a65003000626c6b73697a6500313436380077696e646f7773697a65003400',
  'atftp (no options)': '00017078656c696e75782e30006f6374657400',
  'tftp-hpa -m binary': '00017078656c696e75782e30006f6374657400',
  'tftp-hpa (netascii default)': '00017078656c696e75782e30006e6574617363696900',
} as const;

function triple(bytes: Buffer): TftpPacket {
  const packet = decode(bytes);
  expect(encodingLength(packet)).toBe(bytes.length);
  const encoded = encode(packet);
  expect(encoded.equals(bytes)).toBe(true);
  expect(decode(encoded)).toEqual(packet);
  return packet;
}

describe('TFTP codec over captured requests', () => {
  it.each(Object.entries(CAPTURED))('%s: length, round trip and re-encoding agree', (_name, hex) => {
    const packet = triple(Buffer.from(hex, 'hex'));
    expect(packet.type).toBe('rrq');
  });

  it('decodes the options of curl in order, with their case', () => {
    const packet = decode(Buffer.from(CAPTURED['curl --tftp-blksize 1468'], 'hex'));
    expect(packet).toEqual({
      type: 'rrq',
      filename: 'pxelinux.0',
      mode: 'octet',
      options: [
        { name: 'tsize', value: '0' },
        { name: 'blksize', value: '1468' },
        { name: 'timeout', value: '6' },
      ],
    });
  });
});

describe('TFTP codec: every packet type', () => {
  const packets: [string, TftpPacket][] = [
    ['WRQ', { type: 'wrq', filename: 'upload.bin', mode: 'octet', options: [] }],
    ['RRQ with a latin1 byte in the name', { type: 'rrq', filename: 'caf\u00e9', mode: 'OCTET', options: [{ name: 'BLKSIZE', value: '8' }] }],
    ['DATA', { type: 'data', block: 65535, data: new Uint8Array([1, 2, 3]) }],
    ['empty DATA (end of a file whose size is a multiple of the block)', { type: 'data', block: 0, data: new Uint8Array() }],
    ['ACK', { type: 'ack', block: 4242 }],
    ['ERROR', { type: 'error', code: 8, message: 'tsize probe' }],
    ['ERROR with an empty message', { type: 'error', code: 0, message: '' }],
    ['OACK', { type: 'oack', options: [{ name: 'blksize', value: '1468' }, { name: 'tsize', value: '4294967296' }] }],
  ];

  it.each(packets)('%s', (_name, packet) => {
    const bytes = encode(packet);
    expect(bytes.length).toBe(encodingLength(packet));
    const decoded = decode(bytes);
    if (packet.type === 'data' && decoded.type === 'data') {
      expect(decoded.block).toBe(packet.block);
      expect(Buffer.from(decoded.data).equals(Buffer.from(packet.data))).toBe(true);
    } else {
      expect(decoded).toEqual(packet);
    }
    expect(encode(decoded).equals(bytes)).toBe(true);
  });

  it('encodes into a caller buffer at an offset', () => {
    const buffer = Buffer.alloc(10, 0xff);
    encode({ type: 'ack', block: 258 }, buffer, 3);
    expect([...buffer]).toEqual([0xff, 0xff, 0xff, 0, 4, 1, 2, 0xff, 0xff, 0xff]);
  });

  it('refuses to encode what the wire cannot carry', () => {
    expect(() => encode({ type: 'ack', block: 65536 })).toThrow(RangeError);
    expect(() => encode({ type: 'rrq', filename: 'a\u0000b', mode: 'octet', options: [] })).toThrow(/file name/);
    expect(() => encode({ type: 'rrq', filename: '', mode: 'octet', options: [] })).toThrow(/file name/);
    expect(() => encode({ type: 'oack', options: [{ name: '', value: '1' }] })).toThrow(/option name/);
    expect(() => encode({ type: 'error', code: 1, message: '\u20ac' })).toThrow(/error message/);
    expect(() => encode({ type: 'ack', block: 1 }, Buffer.alloc(3))).toThrow(RangeError);
  });

  it('accepts the sloppy but harmless: zero padding after options, ERROR without its NUL, bytes after an ACK', () => {
    expect(decode(Buffer.from('000161006f637465740000000000', 'hex'))).toMatchObject({ type: 'rrq' });
    expect(decode(Buffer.concat([Buffer.from('00016100', 'hex'), Buffer.from('octet\0blksize\x001468\0\0\0')]))).toMatchObject({
      options: [{ name: 'blksize', value: '1468' }],
    });
    expect(decode(Buffer.from('000500016e6f', 'hex'))).toEqual({ type: 'error', code: 1, message: 'no' });
    expect(decode(Buffer.from('0004000700', 'hex'))).toEqual({ type: 'ack', block: 7 });
  });
});

describe('TFTP codec: malformed packets fail with the offset', () => {
  const malformed: [string, string, number][] = [
    ['empty', '', 0],
    ['one byte', '00', 0],
    ['opcode 0', '0000', 0],
    ['opcode 7', '0007', 0],
    ['opcode 256', '0100', 0],
    ['RRQ with nothing after the opcode', '0001', 2],
    ['RRQ whose name has no NUL', '000166696c65', 2],
    ['RRQ with an empty name', '0001006f6374657400', 2],
    ['RRQ without a mode', '000166696c6500', 7],
    ['RRQ whose mode has no NUL', '000166696c65006f63746574', 7],
    ['RRQ with an empty mode', '000166696c650000', 7],
    ['RRQ option without a value', '000166696c65006f63746574007473697a6500', 19],
    ['RRQ option value without its NUL', '000166696c65006f637465740074737a6500303030', 18],
    ['RRQ option name without its NUL', '000166696c65006f63746574007473697a65', 13],
    ['RRQ data after zero padding', '000166696c65006f6374657400000041', 15],
    ['WRQ without a mode', '000266696c6500', 7],
    ['DATA without a block number', '000300', 2],
    ['ACK of 3 bytes', '000400', 2],
    ['ACK of 2 bytes', '0004', 2],
    ['ERROR without a code', '000500', 2],
    ['OACK option without a value', '0006626c6b73697a6500', 10],
    ['OACK value without its NUL', '0006626c6b73697a650031343638', 10],
  ];

  it.each(malformed)('%s', (_name, hex, offset) => {
    let caught: unknown;
    try {
      decode(Buffer.from(hex, 'hex'));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TftpDecodeError);
    expect((caught as TftpDecodeError).offset).toBe(offset);
    expect((caught as Error).message).toContain(`at offset ${offset}`);
  });
});
