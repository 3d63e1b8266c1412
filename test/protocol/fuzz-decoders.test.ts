// The per-datagram pure path of every UDP server, in process, over many more hostile inputs than the namespace
// suite sends (test/e2e/fuzz-datagrams.test.ts): each input either decodes or fails with the codec's own
// error, and what decoded goes through the servers' next steps (describe for the event, read the client's
// facts, decide) without a throw.
import { describe, expect, it } from 'vitest';
import { describeFirmware, isNetbootClient, readClientFacts } from '../../src/boot/client-facts.js';
import { decideDhcpBoot } from '../../src/boot/dhcp-decision.js';
import { isNetboot6Client, readDhcp6ClientFacts } from '../../src/boot/dhcp6-facts.js';
import { describeOptions } from '../../src/protocol/dhcp4/describe.js';
import { decode as decode4, DhcpDecodeError } from '../../src/protocol/dhcp4/packet.js';
import { describeOptions6 } from '../../src/protocol/dhcp6/describe.js';
import { decode as decode6 } from '../../src/protocol/dhcp6/packet.js';
import { Dhcp6DecodeError } from '../../src/protocol/dhcp6/wire.js';
import { decodeSyslog } from '../../src/protocol/syslog/decode.js';
import { SyslogDecodeError } from '../../src/protocol/syslog/decode-error.js';
import { decode as decodeTftp, TftpDecodeError } from '../../src/protocol/tftp/packet.js';
import { normalizeRequestPath } from '../../src/protocol/tftp/path.js';
import { fuzzDatagrams, type FuzzTarget } from '../support/datagram-fuzz.js';

const COUNT = 4000;

/** Runs `step` over the fuzzed payloads; returns how many decoded, and the unexpected throws (with their input). */
function survey(target: FuzzTarget, expected: new (...args: never[]) => Error, step: (payload: Buffer) => void): { decoded: number; faults: string[] } {
  let decoded = 0;
  const faults: string[] = [];
  for (const datagram of fuzzDatagrams(target, COUNT, 0xabc + target.length)) {
    try {
      step(datagram.payload);
      decoded += 1;
    } catch (error) {
      if (!(error instanceof expected)) faults.push(`${datagram.how} ${datagram.payload.toString('hex').slice(0, 120)}: ${String(error)}`);
    }
  }
  return { decoded, faults };
}

describe('fuzzed datagrams through each server’s pure path', () => {
  it(`DHCPv4: ${COUNT} inputs decode or fail with DhcpDecodeError; decoded ones describe, read and decide without a throw`, () => {
    const { decoded, faults } = survey('dhcp4', DhcpDecodeError, (payload) => {
      const packet = decode4(payload);
      describeOptions(packet.options);
      const facts = readClientFacts(packet);
      describeFirmware(facts);
      if (isNetbootClient(facts)) {
        decideDhcpBoot({ facts, policy: {}, history: {}, now: 0, scriptUrl: 'http://10.77.0.1/boot.ipxe', httpUrl: (file) => `http://10.77.0.1/${file}`, binaries: new Set(['undionly.kpxe', 'ipxe.efi', 'snponly.efi']) });
      }
    });
    expect(faults).toEqual([]);
    expect(decoded).toBeGreaterThan(COUNT / 10);
  });

  it(`DHCPv6: ${COUNT} inputs decode or fail with Dhcp6DecodeError; decoded ones describe and read without a throw`, () => {
    const { decoded, faults } = survey('dhcp6', Dhcp6DecodeError, (payload) => {
      const message = decode6(payload);
      if (!('options' in message)) return;
      describeOptions6(message.options);
      if ('transactionId' in message) isNetboot6Client(readDhcp6ClientFacts(message, 'fe80::1'));
    });
    expect(faults).toEqual([]);
    expect(decoded).toBeGreaterThan(COUNT / 10);
  });

  it(`TFTP: ${COUNT} inputs decode or fail with TftpDecodeError; request names normalise without a throw`, () => {
    const { decoded, faults } = survey('tftp', TftpDecodeError, (payload) => {
      const packet = decodeTftp(payload);
      if ('filename' in packet) normalizeRequestPath(packet.filename);
    });
    expect(faults).toEqual([]);
    expect(decoded).toBeGreaterThan(COUNT / 10);
  });

  it(`syslog: ${COUNT} inputs decode or fail with SyslogDecodeError`, () => {
    const { decoded, faults } = survey('syslog', SyslogDecodeError, (payload) => void decodeSyslog(payload));
    expect(faults).toEqual([]);
    expect(decoded).toBeGreaterThan(COUNT / 10);
  });
});
