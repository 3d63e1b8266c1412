import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAGIC_COOKIE, MessageType, Option } from '../../../src/protocol/dhcp4/constants.js';
import { blankPacket, decode, DhcpDecodeError, type DhcpPacket } from '../../../src/protocol/dhcp4/packet.js';
import { encode, encodingLength } from '../../../src/protocol/dhcp4/encode.js';

function expectTriple(packet: DhcpPacket, settings = {}): Buffer {
  const bytes = encode(packet, settings);
  expect(bytes.length).toBe(encodingLength(packet, settings));
  const decoded = decode(bytes);
  expect(decoded).toEqual(packet);
  expect(encode(decoded, settings)).toEqual(bytes);
  return bytes;
}

function discover(): DhcpPacket {
  return blankPacket({
    xid: 0x12345678,
    flags: 0x8000,
    chaddr: Buffer.concat([Buffer.from('525400123456', 'hex'), Buffer.alloc(10)]),
    options: new Map([
      [Option.MESSAGE_TYPE, Buffer.from([MessageType.DISCOVER])],
      [Option.MAX_MESSAGE_SIZE, Buffer.from([0x05, 0xc0])],
      [Option.VENDOR_CLASS, Buffer.from('PXEClient:Arch:00000:UNDI:002001')],
    ]),
  });
}

/** Hand-assembles a packet so malformed layouts can be built byte by byte. */
function rawPacket(options: number[], patch?: (buf: Buffer) => void): Buffer {
  const buf = Buffer.alloc(240 + options.length);
  buf[0] = 1;
  buf[1] = 1;
  buf[2] = 6;
  buf.writeUInt32BE(MAGIC_COOKIE, 236);
  Buffer.from(options).copy(buf, 240);
  patch?.(buf);
  return buf;
}

describe('DHCPv4 packet codec', () => {
  it('round-trips a PXE DISCOVER and pads it to the BOOTP minimum', () => {
    const bytes = expectTriple(discover());
    expect(bytes.length).toBe(300);
    expect(bytes[240]).toBe(Option.MESSAGE_TYPE);
  });

  it('writes option 53 first whatever the insertion order', () => {
    const packet = discover();
    packet.options = new Map([[Option.VENDOR_CLASS, Buffer.from('PXEClient')], [Option.MESSAGE_TYPE, Buffer.from([2])]]);
    const bytes = encode(packet);
    expect([...bytes.subarray(240, 243)]).toEqual([53, 1, 2]);
  });

  it('splits a long option across instances and concatenates it back (RFC 3396)', () => {
    const packet = discover();
    const long = randomBytes(600);
    packet.options.set(Option.USER_CLASS, long);
    const bytes = expectTriple(packet, { maxMessageSize: 1500 });
    const decoded = decode(bytes);
    expect(decoded.options.get(Option.USER_CLASS)).toEqual(long);
    // three instances: 255 + 255 + 90
    let count = 0;
    for (let at = 240; bytes[at] !== 255; at += 2 + bytes[at + 1]!) if (bytes[at] === Option.USER_CLASS) count += 1;
    expect(count).toBe(3);
  });

  it('overloads file and sname when options do not fit the message size', () => {
    const packet = discover();
    packet.options.set(200, Buffer.alloc(250, 1));
    packet.options.set(201, Buffer.alloc(100, 2));
    packet.options.set(202, Buffer.alloc(50, 3));
    const bytes = expectTriple(packet, { maxMessageSize: 576 });
    expect(bytes.length).toBeLessThanOrEqual(548);
    expect([...bytes.subarray(243, 246)]).toEqual([Option.OVERLOAD, 1, 3]);
    expect(bytes[108]).toBe(201);
    expect(bytes[44]).toBe(202);
  });

  it('reads options overloaded into file and sname in RFC 3396 order', () => {
    const buf = rawPacket([53, 1, 1, 52, 1, 3, 77, 2, 0x61, 0x62, 255], (b) => {
      Buffer.from([77, 2, 0x63, 0x64, 255]).copy(b, 108);
      Buffer.from([77, 1, 0x65, 12, 3, 0x68, 0x6f, 0x73, 255]).copy(b, 44);
    });
    const packet = decode(buf);
    expect(packet.options.get(Option.USER_CLASS)?.toString()).toBe('abcde');
    expect(packet.options.get(Option.HOSTNAME)?.toString()).toBe('hos');
    expect(packet.file).toBe('');
    expect(packet.sname).toBe('');
    expect(packet.options.has(Option.OVERLOAD)).toBe(false);
  });

  it('skips pad bytes between options', () => {
    const packet = decode(rawPacket([0, 0, 53, 1, 1, 0, 60, 3, 0x50, 0x58, 0x45, 255]));
    expect(packet.options.get(Option.VENDOR_CLASS)?.toString()).toBe('PXE');
  });

  it('reads BOOTP file and sname when not overloaded', () => {
    const packet = blankPacket({ op: 2, sname: 'server', file: 'undionly.kpxe', options: new Map([[53, Buffer.from([2])]]) });
    expect(decode(encode(packet))).toMatchObject({ sname: 'server', file: 'undionly.kpxe' });
  });

  it('refuses to encode a file name longer than its field', () => {
    expect(() => encode(blankPacket({ file: 'x'.repeat(128) }))).toThrow(/file/);
  });
});

describe('malformed DHCPv4 input', () => {
  const cases: Array<[string, Buffer, RegExp, number]> = [
    ['empty packet', Buffer.alloc(0), /before the 240-byte header/, 0],
    ['truncated header', Buffer.alloc(100), /before the 240-byte header/, 100],
    ['header without cookie', Buffer.alloc(239), /before the 240-byte header/, 239],
    ['bad magic cookie', rawPacket([53, 1, 1, 255], (b) => b.writeUInt32BE(0xdeadbeef, 236)), /bad magic cookie/, 236],
    ['bad op', rawPacket([53, 1, 1, 255], (b) => (b[0] = 9)), /op 9/, 0],
    ['hlen over 16', rawPacket([53, 1, 1, 255], (b) => (b[2] = 17)), /hardware address length/, 2],
    ['option running past the end', rawPacket([53, 1, 1, 60, 20, 0x50, 0x58]), /claims 20 bytes but only 2 remain/, 243],
    ['option without a length byte', rawPacket([53, 1, 1, 60]), /has no length byte/, 243],
    ['zero-length message type', rawPacket([53, 0, 255]), /message-type \(53\) has length 0/, 240],
    ['zero-length server id', rawPacket([53, 1, 3, 54, 0, 255]), /server-id \(54\) has length 0/, 243],
    ['zero-length vendor class', rawPacket([53, 1, 1, 60, 0, 255]), /vendor-class \(60\) has length 0/, 243],
    ['odd-length client arch', rawPacket([53, 1, 1, 93, 3, 0, 0, 0, 255]), /client-arch \(93\) has length 3/, 243],
    ['overload value 7', rawPacket([53, 1, 1, 52, 1, 7, 255]), /overload \(52\) value 7/, 243],
    [
      'overload loop: 52 inside the file field',
      rawPacket([53, 1, 1, 52, 1, 1, 255], (b) => Buffer.from([52, 1, 1, 255]).copy(b, 108)),
      /would loop/,
      108,
    ],
    [
      'overloaded file field with an option running past it',
      rawPacket([53, 1, 1, 52, 1, 1, 255], (b) => Buffer.from([60, 200]).copy(b, 230)),
      /in the file field claims 200 bytes/,
      230,
    ],
  ];

  it.each(cases)('%s fails with an error naming offset', (_name, bytes, message, offset) => {
    let error: unknown;
    try {
      decode(bytes);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DhcpDecodeError);
    expect((error as DhcpDecodeError).message).toMatch(message);
    expect((error as DhcpDecodeError).offset).toBe(offset);
    expect((error as DhcpDecodeError).message).toContain(`offset ${offset}`);
  });

  it('64 KiB of junk fails with a decode error, never another exception', () => {
    for (let round = 0; round < 50; round += 1) {
      const junk = randomBytes(65536);
      if (round % 2 === 0) junk.writeUInt32BE(MAGIC_COOKIE, 236);
      if (round % 4 === 0) junk[0] = 1;
      try {
        decode(junk);
      } catch (error) {
        expect(error).toBeInstanceOf(DhcpDecodeError);
      }
    }
  });
});
