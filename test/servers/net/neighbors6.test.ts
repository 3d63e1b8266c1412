import { describe, expect, it } from 'vitest';
import { neighborMac6, parseIpNeighbors } from '../../../src/servers/net/neighbors6.js';

const sample = [
  'fe80::5054:ff:fe77:601 dev pxdsrv lladdr 52:54:00:77:06:01 REACHABLE',
  'fd77::100 dev pxdsrv lladdr 52:54:00:77:06:01 STALE',
  'fe80::1 dev pxdsrv lladdr 02:aa:bb:cc:dd:01 router REACHABLE',
  'fd77::5 dev pxdsrv  FAILED',
  'fd77::6 dev pxdsrv lladdr 52:54:00:77:06:06 FAILED',
  'fd77::7 dev pxdsrv INCOMPLETE',
  '',
].join('\n');

describe('ip -6 neigh parsing', () => {
  it('maps reachable and stale entries, routers included, and skips failed ones', () => {
    const table = parseIpNeighbors(sample);
    expect([...table]).toEqual([
      ['fe80::5054:ff:fe77:601', '52:54:00:77:06:01'],
      ['fd77::100', '52:54:00:77:06:01'],
      ['fe80::1', '02:aa:bb:cc:dd:01'],
    ]);
  });

  it('looks up with or without a scope', () => {
    expect(neighborMac6('fe80::5054:ff:fe77:601%pxdsrv', undefined, () => sample)).toBe('52:54:00:77:06:01');
    expect(neighborMac6('fd77::9', undefined, () => sample)).toBeUndefined();
    expect(neighborMac6('fd77::9', undefined, () => { throw new Error('no ip'); })).toBeUndefined();
  });
});
