import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { render } from 'ink-testing-library';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SettingsView } from '../../components/SettingsView.js';
import { settingValue } from '../../components/use-settings-state.js';
import { routerLifetimeProblem } from '../../src/servers/ra/router-lifetime.js';
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
    expect(frame).toMatch(/raLifetime +\(not set\) +pxedeck's RA router lifetime, s \(unset: proxy 0, dhcp 30\)$/m);
    expect(frame).toMatch(/uefiBootProgram +\(not set\) +x64 UEFI/);
  });

  it('raLifetime: refused as the flag refuses it, and refused in proxy mode before anything restarts', async () => {
    const results: Array<[boolean, string]> = [];
    const app = render(<SettingsView control={world.control} isActive height={20} width={100} onClose={() => undefined} onApplied={(ok, message) => results.push([ok, message])} />);
    const editRaLifetime = async (text: string) => {
      await press(app.stdin, keys.enter, keys.backspace.repeat(10), text);
      await waitForFrame(app.lastFrame, (frame) => new RegExp(`› raLifetime +${text}`).test(frame));
      await press(app.stdin, keys.enter, 'w');
    };
    await press(app.stdin, ...Array.from({ length: 7 }, () => keys.down));
    await waitForFrame(app.lastFrame, (frame) => /› raLifetime/.test(frame));
    // Shorter than the gap between two RAs: the fix --ra-lifetime 5 gets.
    await editRaLifetime('5');
    await waitForFrame(() => String(results.length), (count) => count === '1');
    expect(results[0]).toEqual([false, `settings: field "raLifetime" is 5; fix: ${routerLifetimeProblem(5)}`]);
    // Valid alone, but pxedeck must never become a default router beside a site network.
    await editRaLifetime('30');
    await waitForFrame(() => String(results.length), (count) => count === '2');
    expect(results[1]?.[0]).toBe(false);
    expect(results[1]?.[1]).toMatch(/^not applied: router lifetime 30 s in proxy mode: .*fix: --ra-lifetime 0/);
    expect(world.starts).toHaveLength(1);
    expect(saved().raLifetime).toBeUndefined();
    // 0 is what proxy mode sends anyway: applied, the servers restart with it.
    await editRaLifetime('0');
    await waitForFrame(app.lastFrame, (frame) => frame.includes('applied raLifetime; servers restarted'));
    expect(saved().raLifetime).toBe(0);
    expect(world.starts.map((settings) => settings.raLifetime)).toEqual([undefined, 0]);
  });

  it('raLifetime in full DHCP mode: a lifetime is applied', async () => {
    world.close();
    world = createConsoleFixture({ settings: { interface: 'enp3s0', mode: 'dhcp', pool: '10.77.0.100-10.77.0.199' } });
    const app = render(<SettingsView control={world.control} isActive height={20} width={100} onClose={() => undefined} onApplied={() => undefined} />);
    await press(app.stdin, ...Array.from({ length: 7 }, () => keys.down), keys.enter, '1800', keys.enter, 'w');
    await waitForFrame(app.lastFrame, (frame) => frame.includes('applied raLifetime; servers restarted'));
    expect(saved().raLifetime).toBe(1800);
  });

  it('uefiBootProgram: the signed chain as the default for x64 UEFI, a wrong word refused with the fix', async () => {
    const results: Array<[boolean, string]> = [];
    const app = render(<SettingsView control={world.control} isActive height={20} width={120} onClose={() => undefined} onApplied={(ok, message) => results.push([ok, message])} />);
    await press(app.stdin, ...Array.from({ length: 9 }, () => keys.down));
    await waitForFrame(app.lastFrame, (frame) => /› uefiBootProgram +\(not set\) +x64 UEFI/.test(frame));
    await press(app.stdin, keys.enter, 'shim', keys.enter, 'w');
    await waitForFrame(() => String(results.length), (count) => count === '1');
    expect(results[0]?.[0]).toBe(false);
    expect(results[0]?.[1]).toMatch(/field "uefiBootProgram" is "shim"; fix: use "ipxe" .* or "signed"/);
    expect(saved().uefiBootProgram).toBeUndefined();
    await press(app.stdin, keys.enter, keys.backspace.repeat(4), 'signed', keys.enter, 'w');
    await waitForFrame(app.lastFrame, (frame) => frame.includes('applied uefiBootProgram; servers restarted'));
    expect(saved().uefiBootProgram).toBe('signed');
    expect(world.starts.map((settings) => settings.uefiBootProgram)).toEqual([undefined, 'signed']);
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
    expect(settingValue('raLifetime', '30')).toBe(30);
    expect(settingValue('httpPort', 'eighty')).toBe('eighty');
    expect(settingValue('interface', ' eth1 ')).toBe('eth1');
    expect(settingValue('pool', '')).toBeUndefined();
  });
});
