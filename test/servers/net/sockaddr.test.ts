import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { descriptorOf, sockaddr } from '../../../src/servers/net/sockaddr.js';

describe('sockaddr', () => {
  it('encodes sockaddr_in: family in host order, port and address in network order', () => {
    const bytes = sockaddr('10.77.0.1', 69);
    expect(bytes.length).toBe(16);
    expect(bytes.readUInt16LE(0)).toBe(2);
    expect(bytes.readUInt16BE(2)).toBe(69);
    expect([...bytes.subarray(4, 8)]).toEqual([10, 77, 0, 1]);
    expect(bytes.subarray(8).every((byte) => byte === 0)).toBe(true);
  });

  it('encodes sockaddr_in6 with a numeric zone as the scope id', () => {
    const bytes = sockaddr('fe80::1%3', 547);
    expect(bytes.length).toBe(28);
    expect(bytes.readUInt16LE(0)).toBe(10);
    expect(bytes.readUInt16BE(2)).toBe(547);
    expect(bytes.subarray(8, 24).toString('hex')).toBe('fe800000000000000000000000000001');
    expect(bytes.readUInt32LE(24)).toBe(3);
    expect(sockaddr('fd77::1', 69).subarray(8, 24).toString('hex')).toBe('fd770000000000000000000000000001');
    expect(sockaddr('::ffff:10.0.0.1', 69).subarray(20, 24).toString('hex')).toBe('0a000001');
  });

  it('refuses a named zone and anything that is not a literal', () => {
    expect(() => sockaddr('fe80::1%eth0', 69)).toThrow(/interface index/);
    expect(() => sockaddr('boot.example', 69)).toThrow();
  });

  it('finds the descriptor of a bound dgram socket', async () => {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    try {
      expect(descriptorOf(socket)).toBeGreaterThan(2);
    } finally {
      socket.close();
    }
  });
});
