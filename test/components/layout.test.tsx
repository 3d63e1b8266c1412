// The whole screen at 80, 120 and 200 columns: every line fits, and what each width promises is there.
import { renderToString } from 'ink';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleApp } from '../../components/ConsoleApp.js';
import { bootEvents, createConsoleFixture, mac, type ConsoleFixture } from './support/console-fixture.js';

const NOW = Date.UTC(2026, 10, 25, 9, 30, 0);
const ESC = String.fromCharCode(27);
const ansi = new RegExp(`${ESC}\\[[0-9;]*m`, 'g');
const strip = (text: string) => text.replace(ansi, '');

describe('console layout', () => {
  let world: ConsoleFixture;
  beforeAll(() => {
    world = createConsoleFixture();
    world.feed.apply({ kind: 'server.listening', time: NOW - 60_000, source: 'dhcp4', server: 'dhcp4-proxy', address: '10.77.0.1:67' });
    world.feed.apply({ kind: 'server.listening', time: NOW - 60_000, source: 'pxe4011', server: 'pxe-boot-server', address: '10.77.0.1:4011' });
    world.feed.apply({ kind: 'server.error', time: NOW - 60_000, source: 'tftp', server: 'tftp', message: 'UDP 69 in use by dnsmasq, pid 1234' });
    world.feed.apply({ kind: 'server.listening', time: NOW - 60_000, source: 'http', server: 'http', address: '10.77.0.1:80' });
    world.feed.apply({ kind: 'dhcp.foreign-server', time: NOW - 50_000, source: 'dhcp4', server: '10.77.0.254', offered: '10.77.0.57' });
    // The site server also hands out a boot file: in proxy mode that is the warning worth the line.
    world.feed.apply({ kind: 'dhcp.foreign-reply', time: NOW - 49_000, source: 'dhcp4', server: '10.77.0.254', mac: mac('52:54:00:00:01:00'), messageType: 'OFFER', xid: 1, peer: '10.77.0.254:67', offered: '10.77.0.57', bootFile: 'pxelinux.0' });
    world.feed.apply({ kind: 'server.listening', time: NOW - 60_000, source: 'ra', server: 'ra', address: 'icmpv6 lo' });
    world.feed.apply({ kind: 'ra.router-seen', time: NOW - 59_000, source: 'ra', interface: 'lo', router: 'fe80::1', managed: true, other: true, routerLifetime: 1800, prefixes: ['fd77::/64'] });
    const stages = ['dhcp', 'nbp-half', 'ipxe', 'script', 'kernel-half', 'booted'] as const;
    for (let index = 0; index < 40; index += 1) {
      const who = mac(`52:54:00:00:01:${index.toString(16).padStart(2, '0')}`);
      for (const event of bootEvents(who, NOW - 30_000 + index * 300, stages[index % stages.length]!, `10.77.0.${100 + index}`)) world.feed.apply(event);
    }
    world.operator.dispatch([mac('52:54:00:00:01:27')], { kind: 'profile', profile: 'debian-installer', once: true });
    world.operator.dispatch([mac('52:54:00:00:01:26')], { kind: 'hold' });
  });
  afterAll(() => world.close());

  const screen = (columns: number, rows: number) =>
    strip(renderToString(<ConsoleApp feed={world.feed} operator={world.operator} control={world.control} size={{ columns, rows }} now={NOW} />, { columns }));

  it.each([
    [80, 24],
    [120, 40],
    [200, 50],
  ])('fits %i×%i: no line wraps, the frame is one row short of the screen', (columns, rows) => {
    const lines = screen(columns, rows).split('\n');
    expect(lines.length).toBe(rows - 1);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(columns);
    const text = lines.join('\n');
    expect(text).toMatch(/proxyDHCP · lo 127\.0\.0\.1 {2}RA: (router )?fe80::1 (· )?M O/);
    expect(text).toMatch(/DHCP ●:67 {2}4011 ●:4011 {2}TFTP ✖ UDP 69 in use by dnsmasq, pid 1234/);
    expect(text).toMatch(/seen 40 {2}booting \d+ {2}booted \d+ {2}failed \d+ {2}looping \d+ {2}held 1/);
    expect(text).toMatch(/⚠ site DHCP 10\.77\.0\.254 hands out boot/);
    expect(text).toMatch(/MAC +(VENDOR +IP +)?FIRMWARE +STAGE +(PATH +)?PROGRESS +BOOTS +STATUS/);
    expect(text).toMatch(/█+░+ +50%/);
    expect(text).toMatch(/debian-inst/);
    expect(text).toMatch(/held/);
    expect(text).toMatch(/path +DHCP/);
  });

  it('80 columns keeps MAC, firmware, stage, progress, boots and status; vendor and IP move to the detail', () => {
    const text = screen(80, 24);
    expect(text).not.toMatch(/VENDOR/);
    expect(text).toMatch(/52:54:00:00:01:24 BIOS +DHCP/);
  });

  it('120 columns adds vendor and IP; 200 adds the path strip and age', () => {
    expect(screen(120, 40)).toMatch(/52:54:00:00:01:27 QEMU\/KVM +10\.77\.0\.139 +iPXE +script/);
    const wide = screen(200, 50);
    expect(wide).toMatch(/PATH .*SEEN/);
    expect(wide).toMatch(/●●·●●●●●●|●●·●●◦◦◦·|●·+ /);
  });

  it('shows more rows on a taller screen and says which part of the list is shown', () => {
    expect(screen(120, 40)).toMatch(/rows 1–\d+ of 40/);
    const short = screen(80, 24).split('\n').filter((line) => /^ *[› ][ *] ?[0-9a-f]{2}:/.test(line)).length;
    const tall = screen(120, 40).split('\n').filter((line) => /^ *[› ][ *] ?[0-9a-f]{2}:/.test(line)).length;
    expect(tall).toBeGreaterThan(short);
  });
});
