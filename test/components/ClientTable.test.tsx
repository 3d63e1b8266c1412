import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { ClientTable, scrollWindow } from '../../components/ClientTable.js';
import { buildRows } from '../../components/model/client-rows.js';
import { tableColumns } from '../../components/model/columns.js';
import { ClientRegistry } from '../../src/state/registry.js';
import { bootEvents, mac } from './support/console-fixture.js';

const targets = { target: () => ({ kind: 'menu', menu: 'default' }) as const, describe: () => '(menu default)' };

function rowsFor(count: number, now: number) {
  const registry = new ClientRegistry();
  for (let index = 0; index < count; index += 1) {
    for (const event of bootEvents(mac(`52:54:00:00:02:${index.toString(16).padStart(2, '0')}`), now - 5000 + index * 10, index % 2 ? 'nbp-half' : 'dhcp')) registry.apply(event);
  }
  return buildRows(registry.getSnapshot(), targets, { now, sort: 'mac', filter: '' });
}

describe('ClientTable', () => {
  it('draws a title row and one line per machine, the cursor and selection marked', () => {
    const now = Date.now();
    const rows = rowsFor(3, now);
    const { lastFrame } = render(<ClientTable rows={rows} columns={tableColumns(100)} cursor={rows[1]!.mac} marks={new Set([rows[2]!.mac])} height={5} now={now} />);
    const lines = lastFrame()!.split('\n');
    expect(lines[0]).toMatch(/^ +MAC +FIRMWARE +STAGE +PROGRESS +BOOTS +STATUS/);
    expect(lines[1]).toMatch(/^ {3}52:54:00:00:02:00 BIOS +DHCP .*waiting/);
    expect(lines[2]).toMatch(/^› {2}52:54:00:00:02:01 BIOS +NBP +█+░+ +50% .*booting/);
    expect(lines[3]).toMatch(/^ \* 52:54:00:00:02:02 BIOS +DHCP/);
    expect(lines).toHaveLength(6);
  });

  it('says so when no machine has asked yet', () => {
    const { lastFrame } = render(<ClientTable rows={[]} columns={tableColumns(80)} cursor={undefined} marks={new Set()} height={3} now={0} />);
    expect(lastFrame()).toMatch(/no machine has asked yet/);
  });

  it('scrolls the window only as far as needed to keep the cursor in view', () => {
    expect(scrollWindow(0, 5, 10, 100)).toBe(0);
    expect(scrollWindow(0, 12, 10, 100)).toBe(3);
    expect(scrollWindow(20, 15, 10, 100)).toBe(15);
    expect(scrollWindow(95, 99, 10, 100)).toBe(90);
    expect(scrollWindow(40, 3, 10, 8)).toBe(0);
  });
});
