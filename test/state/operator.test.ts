import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseMac, type Mac } from '../../src/protocol/mac.js';
import { openAssignments } from '../../src/state/assignments.js';
import { openOperator, type Operator } from '../../src/state/operator.js';

const presetsDir = resolve(import.meta.dirname, '../../presets');
const a = parseMac('52:54:00:00:00:0a')!;
const b = parseMac('52:54:00:00:00:0b')!;

describe('operator actions', () => {
  let dataDir: string;
  let operator: Operator;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'pxd-operator-'));
    operator = openOperator({ dataDir, presetsDir, serverBase: 'http://10.77.0.1:8080', defaultTarget: { kind: 'menu', menu: 'default' }, now: () => 1_700_000_000_000 });
  });
  afterEach(() => {
    operator.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const saved = (mac: Mac) => (JSON.parse(readFileSync(join(dataDir, 'assignments.json'), 'utf8')) as Record<string, unknown>)[mac];

  it('assigns a profile to several machines at once, persisted where `pxedeck assign` writes', () => {
    const result = operator.dispatch([a, b, a], { kind: 'profile', profile: 'memtest', once: true });
    expect(result).toMatchObject({ ok: true, macs: [a, b] });
    expect(result.message).toBe('2 machines → memtest once, then the local disk');
    expect(saved(b)).toMatchObject({ target: { kind: 'profile', profile: 'memtest' }, once: true });
    // Another process (a running server) reads the same file.
    expect(openAssignments(dataDir).get(a)?.target).toEqual({ kind: 'profile', profile: 'memtest' });
    expect(operator.describe(a)).toBe('memtest once');
    expect(operator.isNew(a)).toBe(false);
  });

  it('refuses a profile that does not exist and changes nothing', () => {
    const result = operator.dispatch([a], { kind: 'profile', profile: 'no-such' });
    expect(result.ok).toBe(false);
    expect(result.message).toMatch(/profile "no-such" does not exist; profiles: .*memtest/);
    expect(operator.assignment(a)).toBeUndefined();
  });

  it('holds and releases, and the next script is the hold loop, then the assignment', () => {
    operator.dispatch([a], { kind: 'profile', profile: 'memtest' });
    operator.dispatch([a], { kind: 'hold' });
    expect(operator.describe(a)).toBe('held → memtest');
    const held = operator.ipxeScript(a);
    expect(held.ok && held.text).toMatch(/is held/);
    operator.dispatch([a], { kind: 'release' });
    const released = operator.ipxeScript(a);
    expect(released.ok && released.text).toMatch(/memtest/i);
  });

  it('keeps variables across target changes and clears only the target', () => {
    operator.dispatch([a, b], { kind: 'variables', variables: { hostname: 'rack1-{{mac_hyphen}}', extra_args: 'console=ttyS0' } });
    operator.dispatch([a], { kind: 'profile', profile: 'debian-installer' });
    expect(operator.variables(a)).toEqual({ hostname: 'rack1-{{mac_hyphen}}', extra_args: 'console=ttyS0' });
    const script = operator.ipxeScript(a);
    expect(script.ok && script.text).toMatch(/rack1-52-54-00-00-00-0a/);
    operator.dispatch([a], { kind: 'variables', variables: { extra_args: '' } });
    expect(operator.variables(a)).toEqual({ hostname: 'rack1-{{mac_hyphen}}' });
    operator.dispatch([a], { kind: 'clear' });
    expect(operator.isNew(a)).toBe(true);
    expect(operator.variables(a)).toEqual({ hostname: 'rack1-{{mac_hyphen}}' });
    expect(operator.describe(a)).toBe('(menu default)');
    expect(operator.dispatch([a], { kind: 'variables', variables: { 'Bad-Name': 'x' } }).ok).toBe(false);
  });

  it('ignores a machine until cleared', () => {
    operator.dispatch([a], { kind: 'ignore' });
    expect(operator.target(a)).toEqual({ kind: 'ignore' });
    operator.dispatch([a], { kind: 'clear' });
    expect(operator.target(a)).toEqual({ kind: 'menu', menu: 'default' });
  });

  it('offers the profile\'s own variables and notifies subscribers of every change', () => {
    let changes = 0;
    operator.subscribe(() => (changes += 1));
    operator.dispatch([a], { kind: 'profile', profile: 'debian-installer' });
    expect(operator.variableNames([a])).toEqual(expect.arrayContaining(['hostname', 'extra_args']));
    expect(changes).toBe(1);
    expect(operator.profiles().map((choice) => choice.id)).toContain('memtest');
    expect(operator.menus().map((choice) => choice.id)).toContain('default');
  });

  it('renders scripts against the current server base after a reconfigure', () => {
    operator.dispatch([a], { kind: 'profile', profile: 'debian-installer' });
    operator.reconfigure({ serverBase: 'http://10.77.0.2:9090', defaultTarget: { kind: 'local' } });
    const script = operator.ipxeScript(a);
    expect(script.ok && script.text).toContain('http://10.77.0.2:9090');
    expect(operator.target(b)).toEqual({ kind: 'local' });
  });

  it('writes a report file under the data dir', () => {
    const path = operator.saveReport(a, 'hello\n');
    expect(path).toBe(join(dataDir, 'reports', '52-54-00-00-00-0a-20231114-221320.txt'));
    expect(readFileSync(path, 'utf8')).toBe('hello\n');
  });

  it('steps a machine through the x64 UEFI boot programs (the console\'s b key) and keeps its other choices', () => {
    const clients = () => JSON.parse(readFileSync(join(dataDir, 'clients.json'), 'utf8')) as Record<string, Record<string, unknown>>;
    expect(operator.dispatch([a], { kind: 'uefi', choice: 'next' }).message).toBe('1 machine: x64 UEFI boots the Secure Boot chain (shim → signed GRUB)');
    expect(clients()[a]).toEqual({ uefiBootProgram: 'signed' });
    expect(operator.dispatch([a], { kind: 'uefi', choice: 'next' }).message).toMatch(/boots iPXE/);
    expect(clients()[a]).toEqual({ uefiBootProgram: 'ipxe' });
    expect(operator.dispatch([a], { kind: 'uefi', choice: 'next' }).message).toMatch(/follows the default/);
    expect(clients()[a]).toEqual({});
  });
});
