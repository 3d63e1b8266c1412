import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { VariablesEditor } from '../../components/VariablesEditor.js';
import { parseNewVariable } from '../../components/use-variables-state.js';
import { keys, press, waitForFrame, waitUntil } from './support/ink.js';

describe('VariablesEditor', () => {
  const fields = [
    { name: 'hostname', value: 'web01' },
    { name: 'extra_args', value: undefined },
  ];

  it('shows common values, and says when machines differ', () => {
    const app = render(<VariablesEditor fields={fields} machines={3} isActive height={10} width={90} onSave={() => undefined} onError={() => undefined} onClose={() => undefined} />);
    const frame = app.lastFrame()!;
    expect(frame).toMatch(/Variables for 3 machines/);
    expect(frame).toMatch(/› hostname +web01/);
    expect(frame).toMatch(/extra_args +\(differs between machines\)/);
    expect(frame).toMatch(/\+ new variable \(NAME=VALUE\)/);
  });

  it('edits a field from its current value, adds NAME=VALUE, removes with d, reports a bad name', async () => {
    const saved: Array<[string, string]> = [];
    const errors: string[] = [];
    let closed = 0;
    const app = render(<VariablesEditor fields={fields} machines={1} isActive height={10} width={90} onSave={(name, value) => saved.push([name, value])} onError={(message) => errors.push(message)} onClose={() => (closed += 1)} />);
    // Each step waits for what it typed to show before Enter: keys are never lost, and a lost one fails here.
    await press(app.stdin, keys.enter, keys.backspace.repeat(2), '99');
    await waitForFrame(app.lastFrame, (frame) => frame.includes('› hostname      web99'));
    await press(app.stdin, keys.enter);
    await waitUntil('hostname saved', () => saved.length === 1);
    await press(app.stdin, keys.down, 'd');
    await waitUntil('extra_args removed', () => saved.length === 2);
    await press(app.stdin, keys.down, keys.enter, 'Extra=1');
    await waitForFrame(app.lastFrame, (frame) => frame.includes('› Extra=1'));
    await press(app.stdin, keys.enter);
    await waitUntil('the bad name reported', () => errors.length === 1);
    await press(app.stdin, keys.enter, 'disk = /dev/sdb');
    await waitForFrame(app.lastFrame, (frame) => frame.includes('› disk = /dev/sdb'));
    await press(app.stdin, keys.enter);
    await waitUntil('disk saved', () => saved.length === 3);
    await press(app.stdin, keys.escape);
    await waitUntil('the editor closing', () => closed === 1);
    expect(saved).toEqual([
      ['hostname', 'web99'],
      ['extra_args', ''],
      ['disk', '/dev/sdb'],
    ]);
    expect(errors).toEqual(['"Extra=1": type NAME=VALUE with a lower-case name']);
    await waitForFrame(() => String(closed), (count) => count === '1');
  });

  it('parses new variables', () => {
    expect(parseNewVariable('hostname=rack-{{mac_hyphen}}')).toEqual({ name: 'hostname', value: 'rack-{{mac_hyphen}}' });
    expect(parseNewVariable('Bad=1')).toBeUndefined();
  });
});
