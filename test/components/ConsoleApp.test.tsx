import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { render } from 'ink-testing-library';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConsoleRoot } from '../../components/ConsoleApp.js';
import { bootEvents, createConsoleFixture, mac, type ConsoleFixture } from './support/console-fixture.js';
import { keys, press, waitForFrame } from './support/ink.js';

const first = mac('52:54:00:00:00:01');
const second = mac('52:54:00:00:00:02');
const third = mac('3c:fd:fe:00:00:03');

describe('the console', () => {
  let world: ConsoleFixture;
  beforeEach(() => {
    world = createConsoleFixture();
    const now = Date.now();
    // Latest activity: third (4 s ago), first (its iPXE DHCP, ~6.8 s ago), second (~7.5 s ago).
    for (const event of bootEvents(first, now - 9000, 'ipxe', '10.77.0.51')) world.feed.apply(event);
    for (const event of bootEvents(second, now - 8000, 'nbp-half', '10.77.0.52')) world.feed.apply(event);
    for (const event of bootEvents(third, now - 4000, 'dhcp')) world.feed.apply(event);
  });
  afterEach(() => world.close());

  const start = () => render(<ConsoleRoot feed={world.feed} operator={world.operator} control={world.control} size={{ columns: 120, rows: 40 }} frameIntervalMs={5} />);
  const assignments = () => JSON.parse(readFileSync(join(world.dataDir, 'assignments.json'), 'utf8')) as Record<string, { target?: unknown; held?: boolean; once?: boolean }>;
  const rowOf = (frame: string, who: string) => frame.split('\n').find((line) => line.includes(who)) ?? '';

  it('lists every machine, most recent first, with vendor, firmware, stage and status', async () => {
    const app = start();
    const frame = await waitForFrame(app.lastFrame, (text) => text.includes(first));
    const lines = frame.split('\n');
    const order = [third, first, second].map((who) => lines.findIndex((line) => line.includes(who)));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(rowOf(frame, first)).toMatch(/QEMU\/KVM\s+10\.77\.0\.51\s+iPXE\s+iPXE .*\(menu default\)\s+booting/);
    expect(rowOf(frame, second)).toMatch(/BIOS\s+NBP\s+█+░+\s+50%/);
    expect(rowOf(frame, third)).toMatch(/Intel Corpor….*DHCP.*waiting/);
    expect(frame).toMatch(/seen 3 {2}booting 2/);
    app.unmount();
  });

  it('moves the cursor and assigns a profile through the picker, typing to filter', async () => {
    const app = start();
    await waitForFrame(app.lastFrame, (text) => text.includes(first));
    await press(app.stdin, keys.down, keys.down, keys.up);
    await waitForFrame(app.lastFrame, (text) => rowOf(text, first).startsWith('›'));
    await press(app.stdin, 'a');
    await waitForFrame(app.lastFrame, (text) => text.includes('Assign a profile to 1 machine'));
    await press(app.stdin, 'mem');
    const picker = await waitForFrame(app.lastFrame, (text) => text.includes('filter: mem'));
    expect(picker).toMatch(/› memtest/);
    expect(picker).not.toMatch(/alpine/);
    await press(app.stdin, keys.enter);
    const frame = await waitForFrame(app.lastFrame, (text) => rowOf(text, first).includes('memtest'));
    expect(frame).toMatch(/1 machine → memtest/);
    expect(assignments()[first]).toMatchObject({ target: { kind: 'profile', profile: 'memtest' } });
    expect(assignments()[second]).toBeUndefined();
    expect(assignments()[third]).toBeUndefined();
    app.unmount();
  });

  it('assigns several selected machines at once, with "once"; n selects every new machine', async () => {
    const app = start();
    await waitForFrame(app.lastFrame, (text) => text.includes(first));
    await press(app.stdin, ' ', keys.down, ' ');
    await waitForFrame(app.lastFrame, (text) => text.includes('selected 2'));
    await press(app.stdin, 'o');
    await waitForFrame(app.lastFrame, (text) => text.includes('Assign a profile to 2 machines') && text.includes('[x] once'));
    await press(app.stdin, 'alp');
    await waitForFrame(app.lastFrame, (text) => text.includes('filter: alp'));
    await press(app.stdin, keys.enter);
    await waitForFrame(app.lastFrame, (text) => text.includes('2 machines → alpine once'));
    expect(assignments()[third]).toMatchObject({ target: { profile: 'alpine' }, once: true });
    expect(assignments()[first]).toMatchObject({ target: { profile: 'alpine' }, once: true });
    expect(assignments()[second]).toBeUndefined();
    // Only the second machine is still new.
    await press(app.stdin, 'x', 'n');
    await waitForFrame(app.lastFrame, (text) => text.includes('selected 1 new machine'));
    await press(app.stdin, 'm');
    await waitForFrame(app.lastFrame, (text) => text.includes('Assign a menu to 1 machine'));
    await press(app.stdin, keys.enter);
    await waitForFrame(app.lastFrame, (text) => text.includes('1 machine → menu default'));
    expect(assignments()[second]).toMatchObject({ target: { kind: 'menu', menu: 'default' } });
    app.unmount();
  });

  it('holds and releases the machine under the cursor', async () => {
    const app = start();
    await waitForFrame(app.lastFrame, (text) => text.includes(first));
    await press(app.stdin, 'h');
    let frame = await waitForFrame(app.lastFrame, (text) => /held\s*$/m.test(rowOf(text, third)));
    expect(frame).toMatch(/1 machine held/);
    expect(frame).toMatch(/held 1/);
    expect(assignments()[third]).toMatchObject({ held: true });
    await press(app.stdin, 'r');
    frame = await waitForFrame(app.lastFrame, (text) => text.includes('1 machine released'));
    expect(rowOf(frame, third)).not.toMatch(/held/);
    expect(assignments()[third]).toMatchObject({ held: false });
    app.unmount();
  });

  it('sets per-machine variables for the selection', async () => {
    const app = start();
    await waitForFrame(app.lastFrame, (text) => text.includes(first));
    await press(app.stdin, 'v');
    await waitForFrame(app.lastFrame, (text) => text.includes('Variables for 1 machine'));
    await press(app.stdin, keys.enter, 'web01');
    await waitForFrame(app.lastFrame, (text) => text.includes('› hostname      web01'));
    await press(app.stdin, keys.enter);
    await waitForFrame(app.lastFrame, (text) => text.includes('1 machine: hostname=web01'));
    await press(app.stdin, keys.down, keys.down, keys.enter, 'disk=/dev/sdb');
    await waitForFrame(app.lastFrame, (text) => text.includes('› disk=/dev/sdb'));
    await press(app.stdin, keys.enter);
    await waitForFrame(app.lastFrame, (text) => text.includes('disk=/dev/sdb'));
    expect(world.operator.variables(third)).toEqual({ hostname: 'web01', disk: '/dev/sdb' });
    await press(app.stdin, keys.escape);
    await waitForFrame(app.lastFrame, (text) => /boots .*hostname=web01 disk=\/dev\/sdb/.test(text));
    app.unmount();
  });

  it('opens the detail view with the stage path, the timeline and the exact script', async () => {
    world.operator.dispatch([first], { kind: 'profile', profile: 'memtest' });
    const app = start();
    await waitForFrame(app.lastFrame, (text) => text.includes(first));
    await press(app.stdin, 'G', keys.up, keys.enter);
    let frame = await waitForFrame(app.lastFrame, (text) => text.includes(' timeline '));
    expect(frame).toMatch(/path +DHCP \d+\.\ds → NBP \d+\.\ds → iPXE/);
    expect(frame).toMatch(/← DISCOVER from BIOS PXE/);
    expect(frame).toMatch(/blksize=1432 tsize=100000/);
    await press(app.stdin, keys.tab);
    frame = await waitForFrame(app.lastFrame, (text) => text.includes('#!ipxe'));
    expect(frame).toMatch(/memtest/);
    expect(frame).toContain(world.operator.ipxeScript(first).ok ? (world.operator.ipxeScript(first) as { text: string }).text.split('\n')[1] : '');
    await press(app.stdin, keys.escape);
    await waitForFrame(app.lastFrame, (text) => text.includes('PROGRESS'));
    app.unmount();
  });

  it('exports the selected machine\'s report to a file', async () => {
    const app = start();
    await waitForFrame(app.lastFrame, (text) => text.includes(first));
    await press(app.stdin, 'e');
    const frame = await waitForFrame(app.lastFrame, (text) => text.includes('written to'));
    const path = /written to (\S+\.txt)/.exec(frame.replace(/\n/g, ''))?.[1];
    expect(path).toBeDefined();
    const report = readFileSync(path!, 'utf8');
    expect(report).toMatch(new RegExp(`pxedeck report for ${third}`));
    expect(report).toMatch(/iPXE script \(GET \/ipxe\?mac=…\):\n#!ipxe/);
    app.unmount();
  });

  it('filters the table by what is typed after /', async () => {
    const app = start();
    await waitForFrame(app.lastFrame, (text) => text.includes(first));
    await press(app.stdin, '/', 'intel');
    await waitForFrame(app.lastFrame, (text) => text.includes('/intel'));
    await press(app.stdin, keys.enter);
    const frame = await waitForFrame(app.lastFrame, (text) => !text.includes(first) && text.includes(third));
    expect(frame).toMatch(/filter "intel"/);
    await press(app.stdin, keys.escape);
    await waitForFrame(app.lastFrame, (text) => text.includes(first));
    app.unmount();
  });

  it('applies settings live: saved, servers restarted, machines kept; a failing start is rolled back', async () => {
    const app = start();
    await waitForFrame(app.lastFrame, (text) => text.includes(first));
    await press(app.stdin, 's');
    await waitForFrame(app.lastFrame, (text) => text.includes('Settings'));
    const httpRow = 4; // interface, mode, pool, bootDir, httpPort
    for (let index = 0; index < httpRow; index += 1) await press(app.stdin, keys.down);
    await press(app.stdin, keys.enter, keys.backspace.repeat(4), '8080');
    await waitForFrame(app.lastFrame, (text) => /› httpPort +8080/.test(text));
    await press(app.stdin, keys.enter);
    await waitForFrame(app.lastFrame, (text) => /httpPort\s+8080/.test(text) && text.includes('changed, not applied'));
    await press(app.stdin, 'w');
    await waitForFrame(app.lastFrame, (text) => text.includes('applied httpPort; servers restarted'));
    expect(JSON.parse(readFileSync(join(world.dataDir, 'settings.json'), 'utf8'))).toMatchObject({ httpPort: 8080 });
    expect(world.starts.map((settings) => settings.httpPort)).toEqual([80, 8080]);
    // A start that fails (the port is taken) puts the old value back.
    world.failNextStart('listen EADDRINUSE: address already in use 127.0.0.1:9090');
    await press(app.stdin, keys.enter, keys.backspace.repeat(4), '9090');
    await waitForFrame(app.lastFrame, (text) => /› httpPort +9090/.test(text));
    await press(app.stdin, keys.enter, 'w');
    await waitForFrame(app.lastFrame, (text) => text.includes('EADDRINUSE') && text.includes('previous settings are back'));
    expect(JSON.parse(readFileSync(join(world.dataDir, 'settings.json'), 'utf8'))).toMatchObject({ httpPort: 8080 });
    expect(world.starts.map((settings) => settings.httpPort)).toEqual([80, 8080, 8080]);
    await press(app.stdin, keys.escape);
    const frame = await waitForFrame(app.lastFrame, (text) => text.includes('PROGRESS'));
    expect(frame).toContain(first);
    app.unmount();
  });

  it('shows the help and quits with q: servers closed, then the app exits', async () => {
    let closed = 0;
    const control = { ...world.control, shutdown: async () => void (closed += 1) };
    const app = render(<ConsoleRoot feed={world.feed} operator={world.operator} control={control} size={{ columns: 100, rows: 30 }} frameIntervalMs={5} />);
    await waitForFrame(app.lastFrame, (text) => text.includes(first));
    await press(app.stdin, '?');
    await waitForFrame(app.lastFrame, (text) => text.includes('any key closes') && text.includes('select all new machines'));
    await press(app.stdin, 'x', 'q');
    await waitForFrame(() => String(closed), (text) => text === '1');
  });
});
