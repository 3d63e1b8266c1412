import { describe, expect, it } from 'vitest';
import { MessageType, Option } from '../../../src/protocol/dhcp6/constants.js';
import { encodeDuid, encodeIaAddress, encodeIaNa, encodeStatus } from '../../../src/protocol/dhcp6/options.js';
import {
  Dhcp6DecodeError,
  decode,
  encode,
  encodingLength,
  findOption,
  option,
  unwrapRelay,
  type Dhcp6Message,
} from '../../../src/protocol/dhcp6/packet.js';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');

function roundTrip(message: Dhcp6Message): Buffer {
  const bytes = encode(message);
  expect(bytes.length).toBe(encodingLength(message));
  const again = decode(bytes);
  expect(again).toEqual(message);
  expect(encode(again).equals(bytes)).toBe(true);
  return bytes;
}

const duid = encodeDuid({ type: 'll', hardwareType: 1, linkLayerAddress: hex('525400770601') });

describe('DHCPv6 message codec', () => {
  it('encodes a Solicit byte for byte as RFC 8415 §8 lays it out', () => {
    const bytes = roundTrip({
      kind: 'message',
      msgType: MessageType.SOLICIT,
      transactionId: 0x123456,
      options: [option(Option.CLIENT_ID, duid), option(Option.ELAPSED_TIME, hex('0000')), option(Option.RAPID_COMMIT)],
    });
    expect(bytes.toString('hex')).toBe('01123456' + '0001000a' + '00030001525400770601' + '000800020000' + '000e0000');
  });

  it('round-trips a Reply with an IA_NA holding an address and a nested status code', () => {
    const ia = encodeIaNa({
      iaid: 1,
      t1: 300,
      t2: 525,
      options: [
        option(
          Option.IAADDR,
          encodeIaAddress({ address: 'fd77::1a0', preferredLifetime: 600, validLifetime: 600, options: [option(Option.STATUS_CODE, encodeStatus(0, 'ok'))] }),
        ),
      ],
    });
    roundTrip({ kind: 'message', msgType: MessageType.REPLY, transactionId: 0xabcdef, options: [option(Option.CLIENT_ID, duid), option(Option.IA_NA, ia)] });
  });

  it('keeps repeated options (two IA_NAs) in wire order', () => {
    const ia = (iaid: number) => option(Option.IA_NA, encodeIaNa({ iaid, t1: 0, t2: 0, options: [] }));
    const message = decode(encode({ kind: 'message', msgType: MessageType.REQUEST, transactionId: 1, options: [ia(7), option(Option.ORO, hex('0017')), ia(8)] }));
    expect(message.options.map((o) => o.code)).toEqual([3, 6, 3]);
  });

  it('decodes relay-forw with the client message inside, and relay-repl', () => {
    const inner = encode({ kind: 'message', msgType: MessageType.SOLICIT, transactionId: 5, options: [option(Option.CLIENT_ID, duid)] });
    const relay: Dhcp6Message = {
      kind: 'relay',
      msgType: MessageType.RELAY_FORW,
      hopCount: 0,
      linkAddress: '2001:db8::1',
      peerAddress: 'fe80::5054:ff:fe77:601',
      options: [option(Option.INTERFACE_ID, Buffer.from('eth7')), option(Option.RELAY_MSG, inner)],
    };
    const bytes = roundTrip(relay);
    expect(bytes.subarray(0, 2).toString('hex')).toBe('0c00');
    const { inner: client, relays } = unwrapRelay(decode(bytes));
    expect(relays).toHaveLength(1);
    expect(client?.transactionId).toBe(5);
    roundTrip({ ...relay, msgType: MessageType.RELAY_REPL, hopCount: 1 });
  });

  it('encodes into a caller buffer at an offset', () => {
    const message: Dhcp6Message = { kind: 'message', msgType: MessageType.INFORMATION_REQUEST, transactionId: 9, options: [option(Option.ORO, hex('003b'))] };
    const target = Buffer.alloc(64, 0xee);
    const slice = encode(message, target, 10);
    expect(slice.toString('hex')).toBe('0b000009' + '00060002003b');
    expect(target[9]).toBe(0xee);
    expect(() => encode(message, Buffer.alloc(5))).toThrow(RangeError);
    expect(findOption(decode(slice), Option.ORO)?.toString('hex')).toBe('003b');
  });

  it('refuses to encode what cannot be on the wire', () => {
    expect(() => encode({ kind: 'message', msgType: 1, transactionId: 0x1000000, options: [] })).toThrow(/24 bits/);
    expect(() => encode({ kind: 'message', msgType: 1, transactionId: 1, options: [option(1, Buffer.alloc(70000))] })).toThrow(/65535/);
  });
});

const solicitHead = '01000001';
const deepRelay = (depth: number): Buffer => {
  let payload = hex(solicitHead);
  for (let i = 0; i < depth; i += 1) {
    const header = Buffer.alloc(34);
    header[0] = 12;
    const opt = Buffer.alloc(4);
    opt.writeUInt16BE(9, 0);
    opt.writeUInt16BE(payload.length, 2);
    payload = Buffer.concat([header, opt, payload]);
  }
  return payload;
};

// [what, bytes, offset the error must name, message fragment]
const malformed: ReadonlyArray<readonly [string, Buffer, number, RegExp]> = [
  ['empty datagram', hex(''), 0, /before the 4-byte header/],
  ['three bytes', hex('011234'), 3, /before the 4-byte header/],
  ['message type 0', hex('00123456'), 0, /reserved/],
  ['stray bytes after the last option', hex(solicitHead + '000800020000' + '0001'), 10, /stray byte/],
  ['option longer than the datagram', hex(solicitHead + '0001' + '0010' + 'aabb'), 4, /claims 16 bytes but only 2 remain/],
  ['elapsed time of 3 bytes', hex(solicitHead + '0008' + '0003' + '000000'), 4, /elapsed-time \(8\) has length 3, expected 2/],
  ['rapid commit with a value', hex(solicitHead + '000e' + '0001' + '00'), 4, /rapid-commit/],
  ['odd ORO', hex(solicitHead + '0006' + '0003' + '001700'), 4, /oro \(6\) has length 3/],
  ['client id of one byte', hex(solicitHead + '0001' + '0001' + '00'), 4, /client-id \(1\) has length 1/],
  ['DUID-UUID of the wrong size', hex(solicitHead + '0001' + '0004' + '00040102'), 8, /DUID-UUID must be 18 bytes, has 4/],
  ['IA_NA shorter than its 12-byte header', hex(solicitHead + '0003' + '0008' + '0000000100000000'), 4, /ia-na \(3\) has length 8/],
  [
    'IAADDR inside an IA_NA that overruns it',
    hex(solicitHead + '0003' + '0014' + '000000010000000000000000' + '0005' + '0018' + '0000000000000000'),
    20,
    /IA_NA options.*claims 24 bytes but only 4 remain/,
  ],
  [
    'IAADDR inside an IA_NA shorter than 24 bytes',
    hex(solicitHead + '0003' + '0014' + '000000010000000000000000' + '0005' + '0004' + '00000000'),
    24,
    /IAADDR needs at least 24 bytes/,
  ],
  [
    'status code of one byte nested in an IAADDR',
    hex(solicitHead + '0003' + '002d' + '000000010000000000000000' + '0005' + '001d' + 'fd770000000000000000000000000001' + '0000000000000000' + '000d' + '0001' + '00'),
    52,
    /status code option of 1 byte/,
  ],
  ['user class item overrunning the option', hex(solicitHead + '000f' + '0006' + '000869505845'), 8, /user class: item claims 8 bytes but only 4 remain/],
  ['vendor class without an enterprise number', hex(solicitHead + '0010' + '0002' + '0157'), 4, /vendor-class \(16\) has length 2/],
  ['vendor class with a torn item', hex(solicitHead + '0010' + '0005' + '0000015700'), 12, /vendor class: a stray byte/],
  ['DNS servers not a multiple of 16', hex(solicitHead + '0017' + '0004' + 'fd770000'), 4, /dns-servers \(23\) has length 4/],
  ['client arch of one byte', hex(solicitHead + '003d' + '0001' + '00'), 4, /client-arch-type/],
  ['NII of two bytes', hex(solicitHead + '003e' + '0002' + '0102'), 4, /nii \(62\) has length 2/],
  ['relay header cut short', hex('0c00' + '00'.repeat(20)), 22, /34-byte header/],
  ['relay carrying a broken client message', Buffer.concat([hex('0c00' + '00'.repeat(32) + '0009' + '0006'), hex(solicitHead + '0001')]), 42, /stray byte/],
  ['relays nested absurdly deep', deepRelay(40), 38 * 33, /nested deeper than 32/],
];

describe('malformed DHCPv6', () => {
  it.each(malformed)('%s fails naming the offset', (_what, bytes, offset, message) => {
    let error: unknown;
    try {
      decode(bytes);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(Dhcp6DecodeError);
    expect((error as Dhcp6DecodeError).message).toMatch(message);
    expect((error as Dhcp6DecodeError).offset).toBe(offset);
    expect((error as Dhcp6DecodeError).message).toContain(`(at offset ${offset})`);
  });

  it('accepts message types it does not know (the server decides what to ignore)', () => {
    expect(decode(hex('22000001')).msgType).toBe(0x22);
  });
});
