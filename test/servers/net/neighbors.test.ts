import { describe, expect, it } from 'vitest';
import { neighborMac, parseArpTable } from '../../../src/servers/net/neighbors.js';

const table = `IP address       HW type     Flags       HW address            Mask     Device
10.77.0.134      0x1         0x2         52:54:77:2a:dc:14     *        pxdab12s
10.77.0.135      0x1         0x0         00:00:00:00:00:00     *        pxdab12s
10.77.0.136      0x1         0x2         52:54:77:2a:DC:15     *        pxdab12s
`;

describe('neighbour table', () => {
  it('maps complete entries and skips incomplete ones', () => {
    expect(parseArpTable(table)).toEqual(new Map([['10.77.0.134', '52:54:77:2a:dc:14'], ['10.77.0.136', '52:54:77:2a:dc:15']]));
    expect(neighborMac('::ffff:10.77.0.134', () => table)).toBe('52:54:77:2a:dc:14');
    expect(neighborMac('10.77.0.135', () => table)).toBeUndefined();
    expect(neighborMac('10.77.0.1', () => { throw new Error('no /proc'); })).toBeUndefined();
  });
});
