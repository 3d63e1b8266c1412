// The options view events carry, against packets captured from real firmware (test/fixtures/dhcp4/README.md).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeOptions } from '../../../src/protocol/dhcp4/describe.js';
import { DhcpOptionsView, optionEntries, optionValue } from '../../../src/protocol/dhcp4/options-view.js';
import { decode, type DhcpOptions } from '../../../src/protocol/dhcp4/packet.js';

const dir = resolve(import.meta.dirname, '../../fixtures/dhcp4');
const manifest = JSON.parse(readFileSync(resolve(dir, 'manifest.json'), 'utf8')) as { fixtures: Array<{ file: string }> };
const packetOf = (file: string) => decode(Buffer.from(readFileSync(resolve(dir, file), 'utf8').replace(/\s+/g, ''), 'hex'));

describe('DhcpOptionsView', () => {
  it.each(manifest.fixtures.map((fixture) => fixture.file))('%s: serialises to the same JSON as describing at once, and reads each key the same', (file) => {
    const packet = packetOf(file);
    const described = describeOptions(packet.options);
    const view = DhcpOptionsView.of(packet.options);
    expect(JSON.stringify({ options: view })).toBe(JSON.stringify({ options: described }));
    for (const [key, value] of Object.entries(described)) expect(optionValue(view, key)).toEqual(value);
    expect(optionEntries(view)).toEqual(Object.entries(described));
    // Written from cached fragments the second time: the same text both times.
    expect(view.json()).toBe(JSON.stringify(described));
    expect(DhcpOptionsView.of(packet.options).json()).toBe(JSON.stringify(described));
  });

  it('writes the same JSON through its fragment cache when thousands of distinct values pass through it', () => {
    for (let n = 0; n < 5000; n += 1) {
      const options: DhcpOptions = new Map([
        [53, Buffer.from([n % 8 || 1])],
        [51, Buffer.from([0, 0, n >> 8, n & 0xff])],
        [60, Buffer.from(`vendor-${n}-"quoted"\\`, 'latin1')],
        [50, Buffer.from([10, 0, n >> 8, n & 0xff])],
        [55, Buffer.from([1, 3, 6, n & 0xff])],
      ]);
      const view = DhcpOptionsView.of(options);
      expect(view.json()).toBe(JSON.stringify(describeOptions(options)));
    }
    expect(DhcpOptionsView.of(new Map()).json()).toBe('{}');
  });

  it('keeps its own copy: the datagram may change after, an option past 255 bytes survives, unknown keys are undefined', () => {
    const datagram = Buffer.from([10, 0, 0, 1]);
    const long = Buffer.alloc(600, 0x61);
    const options: DhcpOptions = new Map([
      [54, datagram],
      [66, long],
    ]);
    const view = DhcpOptionsView.of(options);
    datagram.fill(0xff);
    expect(optionValue(view, '54:server-id')).toBe('10.0.0.1');
    expect(optionValue(view, '66:tftp-server-name')).toBe('a'.repeat(600));
    expect(optionValue(view, '54:router')).toBeUndefined();
    expect(optionValue(view, '3:router')).toBeUndefined();
    expect(optionValue(view, 'not a key')).toBeUndefined();
  });

  it('reads the plain dictionary of an event read back from the log the same way', () => {
    const fromLog = JSON.parse(JSON.stringify({ options: DhcpOptionsView.of(new Map([[54, Buffer.from([10, 0, 0, 1])]])) })) as { options: Record<string, unknown> };
    expect(optionValue(fromLog.options, '54:server-id')).toBe('10.0.0.1');
    expect(optionEntries(fromLog.options)).toEqual([['54:server-id', '10.0.0.1']]);
  });
});
