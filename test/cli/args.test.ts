import { describe, expect, it } from 'vitest';
import { parseCli, UsageError } from '../../src/cli/args.js';

describe('command line', () => {
  it('parses the documented flags', () => {
    expect(parseCli(['--interface', 'enp3s0', '--mode', 'dhcp', '--pool', '10.0.0.100-10.0.0.199', '--http-port', '8080', '--headless'])).toEqual({
      interface: 'enp3s0',
      mode: 'dhcp',
      pool: '10.0.0.100-10.0.0.199',
      httpPort: 8080,
      headless: true,
      force: false,
      help: false,
    });
  });

  it('takes the syslog port (0 for any free port in tests)', () => {
    expect(parseCli(['--syslog-port', '5514']).syslogPort).toBe(5514);
    expect(parseCli(['--syslog-port', '0']).syslogPort).toBe(0);
    expect(parseCli([]).syslogPort).toBeUndefined();
    expect(() => parseCli(['--syslog-port', '70000'])).toThrow(/--syslog-port 70000: use a port number/);
  });

  it('takes the new-MAC rate for full DHCP (0 turns the limit off)', () => {
    expect(parseCli(['--new-macs-per-second', '200']).newMacsPerSecond).toBe(200);
    expect(parseCli(['--new-macs-per-second', '0']).newMacsPerSecond).toBe(0);
    expect(parseCli([]).newMacsPerSecond).toBeUndefined();
    expect(() => parseCli(['--new-macs-per-second', 'lots'])).toThrow(/--new-macs-per-second lots: use a whole number of machines a second, e\.g\. 50, or 0 for no limit/);
  });

  it.each([
    [['--mode', 'full'], /--mode full: use "proxy"/],
    [['--http-port', 'eighty'], /--http-port eighty: use a port number/],
    [['--bogus'], /Unknown option '--bogus'.*pxedeck --help/],
    [['extra'], /pxedeck --help/],
  ])('rejects %j with the fix', (argv, message) => {
    expect(() => parseCli(argv)).toThrow(UsageError);
    expect(() => parseCli(argv)).toThrow(message);
  });
});

describe('--pool6', () => {
  it('reads FIRST-LAST IPv6 addresses', () => {
    expect(parseCli(['--mode', 'dhcp', '--pool6', 'fd77::100-fd77::1ff']).pool6).toEqual({ first: 'fd77::100', last: 'fd77::1ff' });
  });

  it('refuses what is not a range of IPv6 addresses, naming the fix', () => {
    expect(() => parseCli(['--pool6', '10.0.0.1-10.0.0.9'])).toThrow(/use FIRST-LAST IPv6 addresses/);
    expect(() => parseCli(['--pool6', 'fd77::100'])).toThrow(UsageError);
    expect(() => parseCli(['--pool6', 'fd77::1ff-fd77::100'])).toThrow(/give the lower address first/);
    expect(() => parseCli(['--pool6', 'fd77::100-fd77::1ff-fd77::2ff'])).toThrow(UsageError);
  });
});

describe('--ra-lifetime', () => {
  it('reads seconds: 0, or from the longest gap between two RAs (11 s) up to 9000 (RFC 4861 §6.2.1)', () => {
    expect(parseCli(['--ra-lifetime', '0']).raLifetime).toBe(0);
    expect(parseCli(['--ra-lifetime', '11']).raLifetime).toBe(11);
    expect(parseCli(['--ra-lifetime', '9000']).raLifetime).toBe(9000);
    expect(parseCli([]).raLifetime).toBeUndefined();
  });

  it.each(['10', '1', '9001', '30s', '1e3', '', '-5'])('refuses %j, naming the range', (text) => {
    expect(() => parseCli([`--ra-lifetime=${text}`])).toThrow(UsageError);
    expect(() => parseCli([`--ra-lifetime=${text}`])).toThrow(`--ra-lifetime ${text}: use 0 (hosts never route through pxedeck) or 11–9000 seconds`);
  });
});
