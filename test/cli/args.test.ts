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
