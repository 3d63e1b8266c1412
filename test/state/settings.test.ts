import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigFileError } from '../../src/state/conf-file.js';
import { BENCH_ROUTER_LIFETIME, openSettings, routerLifetimeOf, validateSettings } from '../../src/state/settings.js';
import { tempDirs } from '../support/temp-dirs.js';

const temp = tempDirs('pxedeck-state-');

describe('settings', () => {
  it('defaults to proxy mode on port 80 when nothing is saved', () => {
    expect(openSettings(temp()).load()).toMatchObject({ mode: 'proxy', httpPort: 80 });
  });

  it('takes IPv6 name servers too (DHCPv6 option 23; an IPv6-only bench has no other way to give them)', () => {
    expect(validateSettings({ dnsServers: ['10.0.0.1', 'fd77::53'] }, 'settings.json')).toEqual([]);
  });

  it('saves and reloads', () => {
    const dir = temp();
    openSettings(dir).save({ mode: 'dhcp', pool: '10.0.0.100-10.0.0.199' });
    expect(openSettings(dir).load()).toMatchObject({ mode: 'dhcp', pool: '10.0.0.100-10.0.0.199' });
  });

  it.each([
    [{ mode: 'full' }, /field "mode" is "full"; fix: use "proxy".*or "dhcp"/],
    [{ pool: '10.0.0.100' }, /field "pool".*FIRST-LAST/],
    [{ httpPort: 70000 }, /field "httpPort" is 70000; fix: use a TCP port/],
    [{ reservations: { 'not-a-mac': '10.0.0.5' } }, /"not-a-mac" is not a MAC address/],
    [{ reservations: { '52:54:00:00:00:01': 'ten' } }, /address for 52:54:00:00:00:01 must be an IPv4 address/],
    [{ colour: 'blue' }, /unknown field "colour"; fix: remove it/],
    [{ raLifetime: 5 }, /field "raLifetime" is 5; fix: use 0 .* or 11–9000 seconds/],
    [{ raLifetime: '30' }, /field "raLifetime" is "30"; fix: use 0/],
    [{ dnsServers: ['10.0.0.1', 'dns.example'] }, /field "dnsServers" .*fix: use a list of IPv4 and\/or IPv6 addresses/],
  ])('names the field and the fix for %j', (raw, message) => {
    const problems = validateSettings(raw as Record<string, unknown>, 'settings.json');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^settings\.json: /);
    expect(problems[0]).toMatch(message);
  });

  it('refuses a saved file with a bad field, naming file, field and fix', () => {
    const dir = temp();
    writeFileSync(join(dir, 'settings.json'), JSON.stringify({ mode: 'dhcpx' }));
    expect(() => openSettings(dir).load()).toThrow(ConfigFileError);
    expect(() => openSettings(dir).load()).toThrow(/settings\.json: field "mode"/);
  });

  it('refuses a file that is not JSON with the fix', () => {
    const dir = temp();
    writeFileSync(join(dir, 'settings.json'), '{ mode: proxy');
    expect(() => openSettings(dir)).toThrow(/settings\.json cannot be read .*fix: correct the JSON or delete the file/);
  });
});

describe('router lifetime of pxedeck\'s RAs', () => {
  it('is 0 in proxy mode and a short one in full DHCP mode unless set', () => {
    expect(routerLifetimeOf({ mode: 'proxy' })).toEqual({ seconds: 0 });
    expect(routerLifetimeOf({ mode: 'proxy', raLifetime: 0 })).toEqual({ seconds: 0 });
    expect(routerLifetimeOf({ mode: 'dhcp' })).toEqual({ seconds: BENCH_ROUTER_LIFETIME });
    expect(BENCH_ROUTER_LIFETIME).toBe(30);
    expect(routerLifetimeOf({ mode: 'dhcp', raLifetime: 0 })).toEqual({ seconds: 0 });
    expect(routerLifetimeOf({ mode: 'dhcp', raLifetime: 1800 })).toEqual({ seconds: 1800 });
  });

  it('refuses a lifetime in proxy mode: pxedeck must never be a default router beside a site network', () => {
    expect(routerLifetimeOf({ mode: 'proxy', raLifetime: 30 })).toEqual({ problem: expect.stringMatching(/^router lifetime 30 s in proxy mode: .*fix: --ra-lifetime 0/) });
  });

  it('keeps a saved lifetime', () => {
    const dir = temp();
    openSettings(dir).save({ mode: 'dhcp', raLifetime: 600 });
    expect(openSettings(dir).load()).toMatchObject({ raLifetime: 600 });
  });
});
