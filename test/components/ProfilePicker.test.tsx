import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { ProfilePicker } from '../../components/ProfilePicker.js';
import { filterChoices } from '../../components/use-picker-state.js';
import { keys, press, waitForFrame, waitUntil } from './support/ink.js';

const choices = [
  { id: 'alpine', title: 'Alpine Linux netboot' },
  { id: 'debian-installer', title: 'Debian 12 installer', description: 'preseeded' },
  { id: 'memtest', title: 'memtest86+ memory test' },
  { id: 'ubuntu-installer', title: 'Ubuntu installer' },
];

describe('ProfilePicker', () => {
  it('filters as the operator types, prefix matches first, across id, title and description', () => {
    expect(filterChoices(choices, 'inst').map((choice) => choice.id)).toEqual(['debian-installer', 'ubuntu-installer']);
    expect(filterChoices(choices, 'u').map((choice) => choice.id)[0]).toBe('ubuntu-installer');
    expect(filterChoices(choices, 'preseed').map((choice) => choice.id)).toEqual(['debian-installer']);
    expect(filterChoices(choices, 'memory test').map((choice) => choice.id)).toEqual(['memtest']);
  });

  it('chooses with the arrows, toggles once with Tab, assigns with Enter', async () => {
    const submitted: Array<[string, boolean]> = [];
    const app = render(<ProfilePicker list="profile" choices={choices} machines={2} isOnce={false} isActive height={12} width={80} onSubmit={(id, once) => submitted.push([id, once])} onCancel={() => undefined} />);
    expect(app.lastFrame()).toMatch(/Assign a profile to 2 machines {3}\[ \] once/);
    await press(app.stdin, 'install');
    await waitForFrame(app.lastFrame, (frame) => frame.includes('filter: install') && !frame.includes('alpine'));
    await press(app.stdin, keys.down, keys.tab);
    await waitForFrame(app.lastFrame, (frame) => frame.includes('[x] once, then the local disk') && frame.includes('› ubuntu-installer'));
    await press(app.stdin, keys.enter);
    await waitUntil('the assignment', () => submitted.length > 0);
    expect(submitted).toEqual([['ubuntu-installer', true]]);
  });

  it('erases with Backspace, says when nothing matches, and cancels with Esc', async () => {
    let cancelled = 0;
    const submitted: string[] = [];
    const app = render(<ProfilePicker list="menu" choices={choices} machines={1} isOnce={false} isActive height={10} width={80} onSubmit={(id) => submitted.push(id)} onCancel={() => (cancelled += 1)} />);
    await press(app.stdin, 'zz');
    await waitForFrame(app.lastFrame, (frame) => frame.includes('no menu matches "zz"'));
    await press(app.stdin, keys.enter);
    expect(submitted).toEqual([]);
    await press(app.stdin, keys.backspace, keys.backspace);
    await waitForFrame(app.lastFrame, (frame) => frame.includes('› alpine'));
    await press(app.stdin, keys.escape);
    await waitForFrame(() => String(cancelled), (count) => count === '1');
  });
});
