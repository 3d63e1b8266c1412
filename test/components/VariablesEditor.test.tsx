import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { VariablesEditor } from '../../components/VariablesEditor.js';
import { parseNewVariable } from '../../components/use-variables-state.js';
import { keys, press, waitForFrame } from './support/ink.js';

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
    await press(app.stdin, keys.enter, keys.backspace.repeat(2), '99', keys.enter);
    await press(app.stdin, keys.down, 'd');
    await press(app.stdin, keys.down, keys.enter, 'Extra=1', keys.enter);
    await press(app.stdin, keys.enter, 'disk = /dev/sdb', keys.enter);
    await press(app.stdin, keys.escape);
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
