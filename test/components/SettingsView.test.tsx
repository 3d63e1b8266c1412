import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { render } from 'ink-testing-library';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SettingsView } from '../../components/SettingsView.js';
import { settingValue } from '../../components/use-settings-state.js';
import { createConsoleFixture, type ConsoleFixture } from './support/console-fixture.js';
import { keys, press, waitForFrame } from './support/ink.js';

describe('SettingsView', () => {
  let world: ConsoleFixture;
  beforeEach(() => {
    world = createConsoleFixture({ settings: { interface: 'enp3s0', pool: '10.77.0.100-10.77.0.199' } });
  });
  afterEach(() => world.close());

  const saved = () => JSON.parse(readFileSync(join(world.dataDir, 'settings.json'), 'utf8')) as Record<string, unknown>;

  it('lists the settings the servers run with', () => {
    const app = render(<SettingsView control={world.control} isActive height={20} width={100} onClose={() => undefined} onApplied={() => undefined} />);
    const frame = app.lastFrame()!;
    expect(frame).toMatch(/Settings — .*settings\.json/);
    expect(frame).toMatch(/› interface +enp3s0/);
    expect(frame).toMatch(/mode +proxy/);
    expect(frame).toMatch(/pool +10\.77\.0\.100-10\.77\.0\.199/);
    expect(frame).toMatch(/httpPort +80/);
    expect(frame).toMatch(/defaultTarget +menu:default/);
  });

  it('keeps edits until applied; a bad value is refused with the fix and nothing restarts', async () => {
    const results: Array<[boolean, string]> = [];
    const app = render(<SettingsView control={world.control} isActive height={20} width={100} onClose={() => undefined} onApplied={(ok, message) => results.push([ok, message])} />);
    await press(app.stdin, keys.down, keys.enter, keys.backspace.repeat(5), 'full');
    await waitForFrame(app.lastFrame, (frame) => /› mode +full/.test(frame));
    await press(app.stdin, keys.enter);
    await waitForFrame(app.lastFrame, (frame) => /mode +full +\[changed, not applied\]/.test(frame));
    expect(saved().mode).toBeUndefined();
    await press(app.stdin, 'w');
    await waitForFrame(app.lastFrame, (frame) => frame.includes('field "mode" is "full"; fix: use "proxy"'));
    expect(results[0]?.[0]).toBe(false);
    expect(world.starts).toHaveLength(1);
    // Fix it: mode dhcp, and the servers restart with it.
    await press(app.stdin, keys.enter, keys.backspace.repeat(4), 'dhcp');
    await waitForFrame(app.lastFrame, (frame) => /› mode +dhcp/.test(frame));
    await press(app.stdin, keys.enter, 'w');
    await waitForFrame(app.lastFrame, (frame) => frame.includes('applied mode; servers restarted'));
    expect(saved().mode).toBe('dhcp');
    expect(world.starts.map((settings) => settings.mode)).toEqual(['proxy', 'dhcp']);
    expect(world.control.config().settings.mode).toBe('dhcp');
  });

  it('an emptied field goes back to its default; u drops edits; Esc leaves', async () => {
    let closed = 0;
    const app = render(<SettingsView control={world.control} isActive height={20} width={100} onClose={() => (closed += 1)} onApplied={() => undefined} />);
    await press(app.stdin, keys.down, keys.down, keys.enter, keys.backspace.repeat(30), keys.enter);
    await waitForFrame(app.lastFrame, (frame) => /pool +\(default\)/.test(frame));
    await press(app.stdin, 'u');
    await waitForFrame(app.lastFrame, (frame) => /pool +10\.77\.0\.100/.test(frame));
    await press(app.stdin, keys.enter, keys.backspace.repeat(30), keys.enter, 'w');
    await waitForFrame(app.lastFrame, (frame) => frame.includes('applied pool'));
    expect(saved().pool).toBeUndefined();
    await press(app.stdin, keys.escape);
    await waitForFrame(() => String(closed), (count) => count === '1');
  });

  it('turns typed text into setting values', () => {
    expect(settingValue('httpPort', '8080')).toBe(8080);
    expect(settingValue('httpPort', 'eighty')).toBe('eighty');
    expect(settingValue('interface', ' eth1 ')).toBe('eth1');
    expect(settingValue('pool', '')).toBeUndefined();
  });
});
