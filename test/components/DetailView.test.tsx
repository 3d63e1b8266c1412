import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { DetailPane } from '../../components/DetailPane.js';
import { DetailScreen, tabLines } from '../../components/DetailView.js';
import { buildRows } from '../../components/model/client-rows.js';
import { clientStatus } from '../../components/model/client-status.js';
import { ClientRegistry } from '../../src/state/registry.js';
import { bootEvents, mac } from './support/console-fixture.js';
import { keys, press, waitForFrame, waitUntil } from './support/ink.js';

const who = mac('52:54:00:0d:0e:01');
const target = { kind: 'profile', profile: 'memtest' } as const;

function rowAt(until: Parameters<typeof bootEvents>[2], now: number, startedAgo = 10_000) {
  const registry = new ClientRegistry();
  for (const event of bootEvents(who, now - startedAgo, until)) registry.apply(event);
  const [row] = buildRows(registry.getSnapshot(), { target: () => target, describe: () => 'memtest' }, { now, sort: 'recent', filter: '' });
  return { ...row!, status: clientStatus(row!.record, target, now) };
}

const noop = () => undefined;
const handlers = { onPick: noop, onOperator: noop, onVariables: noop, onExport: noop, onBack: noop, onQuit: noop };

describe('DetailPane', () => {
  it('fits who, the stage path with times, what it boots, and the latest events into its height', () => {
    const now = Date.now();
    const app = render(<DetailPane row={rowAt('kernel-half', now)} variables={{ hostname: 'web01' }} height={7} width={100} now={now} />);
    const lines = app.lastFrame()!.split('\n');
    expect(lines).toHaveLength(7);
    expect(lines[0]).toMatch(/─ 52:54:00:0d:0e:01 {2}QEMU\/KVM {2}10\.77\.0\.50 {2}BIOS PXE → iPXE x86 BIOS {2}cycle 1/);
    expect(lines[1]).toMatch(/path +DHCP 0\.2s → NBP 2\.0s → iPXE 0\.3s → script 0\.1s → kernel \d+\.\ds…/);
    expect(lines[2]).toMatch(/boots +memtest {2}· {2}hostname=web01/);
    expect(lines.join('\n')).toMatch(/stalled|downloading HTTP vmlinuz 3\.8M of 7\.6M 50%/);
  });

  it('puts a space between the badge and the diagnosis, also after a seven-letter badge', () => {
    const now = Date.now();
    const frame = render(<DetailPane row={rowAt('dhcp', now, 70_000)} variables={{}} height={5} width={100} now={now} />).lastFrame()!;
    expect(frame).toMatch(/^stalled offered undionly\.kpxe 1m ago but no download followed/m);
  });
});

describe('DetailScreen', () => {
  it('shows the timeline with decoded fields, then the script and the PXELINUX config on Tab', async () => {
    const now = Date.now();
    const content = { row: rowAt('script', now), variables: {}, script: { ok: true, text: '#!ipxe\necho pxedeck: memtest86+\nkernel http://x/memtest\nboot\n' } as const, pxelinux: 'DEFAULT pxedeck\n' };
    const app = render(<DetailScreen {...handlers} content={content} width={100} height={20} now={now} isActive />);
    let frame = app.lastFrame()!;
    expect(frame).toMatch(/ timeline {2}iPXE script {2}PXELINUX config/);
    expect(frame).toMatch(/← DISCOVER from BIOS PXE/);
    expect(frame).toMatch(/vendor-class=PXEClient:Arch:00000:UNDI:002001/);
    expect(frame).toMatch(/undionly\.kpxe start \(98K\) *\n +blksize=1432 tsize=100000/);
    expect(frame).toMatch(/GET \/ipxe → 200/);
    await press(app.stdin, keys.tab);
    frame = await waitForFrame(app.lastFrame, (text) => text.includes('#!ipxe'));
    expect(frame).toMatch(/kernel http:\/\/x\/memtest/);
    await press(app.stdin, keys.tab);
    await waitForFrame(app.lastFrame, (text) => text.includes('DEFAULT pxedeck'));
  });

  it('scrolls a long timeline and follows new events at its end', async () => {
    const now = Date.now();
    const content = { row: rowAt('booted', now), variables: {}, script: { ok: false, status: 404, message: 'no such profile' } as const, pxelinux: null };
    const lines = tabLines('timeline', content);
    expect(lines.length).toBeGreaterThan(8);
    const app = render(<DetailScreen {...handlers} content={content} width={100} height={10} now={now} isActive />);
    expect(app.lastFrame()).toMatch(/beacon: booted/);
    await press(app.stdin, 'g');
    await waitForFrame(app.lastFrame, (text) => text.includes('← DISCOVER from BIOS PXE') && !text.includes('beacon: booted'));
    await press(app.stdin, keys.tab);
    await waitForFrame(app.lastFrame, (text) => text.includes('# the server answers 404: no such profile'));
  });

  it('passes the operator keys on and goes back with Esc', async () => {
    const picked: string[] = [];
    let back = 0;
    const now = Date.now();
    const content = { row: rowAt('ipxe', now), variables: {}, script: { ok: true, text: '#!ipxe\n' } as const, pxelinux: null };
    const app = render(<DetailScreen {...handlers} onPick={(list, once) => picked.push(`${list}${once ? ' once' : ''}`)} onBack={() => (back += 1)} content={content} width={100} height={12} now={now} isActive />);
    await press(app.stdin, 'a', 'o', keys.escape);
    await waitUntil('the back key', () => back === 1);
    expect(picked).toEqual(['profile', 'profile once']);
    await waitForFrame(() => String(back), (count) => count === '1');
  });
});
