import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  decode,
  encode,
  encodingLength,
  NdDecodeError,
  prefixesOf,
  sourceLinkLayerOf,
  type RouterAdvert,
  type RouterDiscoveryMessage,
} from '../../../src/protocol/icmpv6/router-discovery.js';
import { parseMac } from '../../../src/protocol/mac.js';

const fixtures = JSON.parse(readFileSync(new URL('../../fixtures/icmpv6/router-discovery.json', import.meta.url), 'utf8')) as {
  packets: Record<string, { hex: string }>;
};
const bytes = (name: string) => Buffer.from(fixtures.packets[name]!.hex, 'hex');
/** The kernel fills the checksum on send; ours encode it as 0. */
const withoutChecksum = (buf: Buffer) => Buffer.concat([buf.subarray(0, 2), Buffer.alloc(2), buf.subarray(4)]);

describe('router discovery codec over captured packets', () => {
  for (const name of Object.keys(fixtures.packets)) {
    it(`${name}: encodingLength, decode(encode(x)) and re-encoding match the wire`, () => {
      const wire = bytes(name);
      const message = decode(wire);
      expect(encodingLength(message)).toBe(wire.length);
      expect(encode(message)).toEqual(withoutChecksum(wire));
      expect(decode(encode(message))).toEqual(message);
    });
  }

  it('reads dnsmasq RA: no M/O, a default router for 1800 s, prefix, MTU, source link-layer, RDNSS kept raw', () => {
    const message = decode(bytes('dnsmasq-ra')) as RouterAdvert;
    expect(message).toMatchObject({ kind: 'router-advert', curHopLimit: 64, managed: false, other: false, preference: 'medium', routerLifetime: 1800 });
    expect(prefixesOf(message)).toEqual([
      { type: 'prefix', prefix: 'fd77::', prefixLength: 64, onLink: true, autonomous: true, validLifetime: 3598, preferredLifetime: 1798 },
    ]);
    expect(message.options).toContainEqual({ type: 'mtu', mtu: 1500 });
    expect(sourceLinkLayerOf(message)).toBe('da:88:19:e2:62:72');
    expect(message.options.find((option) => option.type === 'raw')).toMatchObject({ code: 25 });
  });

  it('reads our RA: managed, other, lifetime 0, on-link autonomous /64', () => {
    const message = decode(bytes('pxedeck-ra')) as RouterAdvert;
    expect(message).toMatchObject({ managed: true, other: true, routerLifetime: 0 });
    expect(prefixesOf(message)[0]).toMatchObject({ prefix: 'fd77::', prefixLength: 64, onLink: true, autonomous: true, validLifetime: 3600, preferredLifetime: 1800 });
  });

  it('reads the kernel RS with its source link-layer address', () => {
    const message = decode(bytes('linux-kernel-rs'));
    expect(message.kind).toBe('router-solicit');
    expect(sourceLinkLayerOf(message)).toBe('da:88:19:e2:62:72');
  });

  it('encodes router preference and round-trips it', () => {
    for (const preference of ['low', 'medium', 'high'] as const) {
      const message: RouterDiscoveryMessage = { kind: 'router-advert', curHopLimit: 0, managed: false, other: true, preference, routerLifetime: 0, reachableTime: 0, retransTimer: 0, options: [{ type: 'source-link-layer', mac: parseMac('52:54:00:12:34:56')! }] };
      expect(decode(encode(message))).toEqual(message);
    }
  });

  it('refuses options it cannot encode instead of writing garbage', () => {
    const base = { kind: 'router-solicit' as const };
    expect(() => encode({ ...base, options: [{ type: 'raw', code: 30, data: Buffer.alloc(5) }] })).toThrow(RangeError);
    expect(() => encode({ ...base, options: [{ type: 'prefix', prefix: 'fd77::', prefixLength: 129, onLink: true, autonomous: false, validLifetime: 1, preferredLifetime: 1 }] })).toThrow(RangeError);
  });
});

describe('malformed router discovery messages fail naming the offset', () => {
  const ra = bytes('dnsmasq-ra');
  const cases: Array<[string, Buffer, number, RegExp]> = [
    ['too short for a header', Buffer.from('86', 'hex'), 0, /too short for an ICMPv6 header/],
    ['not a router discovery type', Buffer.from('87000000', 'hex'), 0, /type 135/],
    ['non-zero code', Buffer.from('85010000', 'hex'), 1, /code 1/],
    ['RA shorter than its fixed part', ra.subarray(0, 12), 0, /too short for a router-advert/],
    ['zero-length option', Buffer.concat([ra.subarray(0, 16), Buffer.from('0100', 'hex')]), 17, /length 0/],
    ['option past the end', ra.subarray(0, 40), 16, /claims 32 bytes but only 24 remain/],
    ['one stray byte', Buffer.concat([ra, Buffer.from('01', 'hex')]), ra.length, /stray byte/],
    ['prefix option of the wrong size', Buffer.concat([ra.subarray(0, 16), Buffer.from('0303', 'hex'), Buffer.alloc(22)]), 16, /not 32/],
    ['prefix longer than 128', Buffer.concat([ra.subarray(0, 16), Buffer.from('0304ff', 'hex'), Buffer.alloc(29)]), 18, /more than 128/],
    ['MTU option of the wrong size', Buffer.concat([ra.subarray(0, 16), Buffer.from('0502', 'hex'), Buffer.alloc(14)]), 16, /MTU option is 16 bytes/],
  ];
  for (const [name, input, offset, message] of cases) {
    it(name, () => {
      let error: unknown;
      try {
        decode(input);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(NdDecodeError);
      expect((error as NdDecodeError).offset).toBe(offset);
      expect((error as Error).message).toMatch(message);
    });
  }
});
