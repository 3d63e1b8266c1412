import { describe, expect, it } from 'vitest';
import { decodeSyslog, SyslogDecodeError, type SyslogLine } from '../../../src/protocol/syslog/decode.js';
import { priorityOf, severityRank } from '../../../src/protocol/syslog/priority.js';

const bytes = (text: string) => Buffer.from(text, 'utf8');
const one = (text: string): SyslogLine => {
  const lines = decodeSyslog(bytes(text));
  expect(lines).toHaveLength(1);
  return lines[0]!;
};

describe('priority', () => {
  it('splits PRI into facility and severity', () => {
    expect(priorityOf(0)).toEqual({ pri: 0, facility: 'kern', severity: 'emerg' });
    expect(priorityOf(13)).toEqual({ pri: 13, facility: 'user', severity: 'notice' });
    expect(priorityOf(156)).toEqual({ pri: 156, facility: 'local3', severity: 'warning' });
    expect(priorityOf(191)).toEqual({ pri: 191, facility: 'local7', severity: 'debug' });
    expect(() => priorityOf(192)).toThrow(/out of range/);
    expect(severityRank('err')).toBeLessThan(severityRank('info'));
  });
});

// Datagrams as util-linux logger 2.38.1 and busybox 1.35 sent them (captured on loopback, see the server
// test for the live versions); iPXE's are built from its format string "<%d>%s%s%s%sipxe: %s%s".
describe('RFC 3164', () => {
  it('util-linux logger --rfc3164', () => {
    expect(one('<156>Nov 25 14:14:12 vm mytag: hello 3164')).toEqual({
      format: 'rfc3164',
      pri: 156,
      facility: 'local3',
      severity: 'warning',
      timestamp: 'Nov 25 14:14:12',
      hostname: 'vm',
      app: 'mytag',
      message: 'hello 3164',
    });
  });

  it('busybox syslogd -R: no hostname, trailing newline', () => {
    expect(one('<29>Nov 25 14:14:19 bbtag: from busybox\n')).toMatchObject({
      facility: 'daemon',
      severity: 'notice',
      timestamp: 'Nov 25 14:14:19',
      app: 'bbtag',
      message: 'from busybox',
    });
    expect(one('<29>Nov 25 14:14:19 bbtag: from busybox\n').hostname).toBeUndefined();
    expect(one('<30>Nov  5 09:01:02 udhcpc[212]: lease of 10.77.0.100 obtained\n')).toMatchObject({
      timestamp: 'Nov  5 09:01:02',
      app: 'udhcpc',
      procId: '212',
      message: 'lease of 10.77.0.100 obtained',
    });
  });

  it('iPXE, with and without a hostname', () => {
    expect(one('<6>ipxe: http://10.77.0.1/boot.ipxe... ok')).toEqual({
      format: 'rfc3164',
      pri: 6,
      facility: 'kern',
      severity: 'info',
      app: 'ipxe',
      message: 'http://10.77.0.1/boot.ipxe... ok',
    });
    expect(one('<3>node07.lab ipxe: Connection timed out (https://ipxe.org/4c0a6035)')).toMatchObject({
      severity: 'err',
      hostname: 'node07.lab',
      app: 'ipxe',
      message: 'Connection timed out (https://ipxe.org/4c0a6035)',
    });
  });

  it('rsyslog forward format: RFC 3339 time in the BSD header', () => {
    expect(one('<14>2026-11-25T14:14:12.805205+00:00 node07 anaconda[1234]: Running pre-installation scripts')).toMatchObject({
      timestamp: '2026-11-25T14:14:12.805205+00:00',
      hostname: 'node07',
      app: 'anaconda',
      procId: '1234',
      message: 'Running pre-installation scripts',
    });
  });

  it('text without a header stays message text', () => {
    expect(one('<13>hello world')).toEqual({ format: 'rfc3164', pri: 13, facility: 'user', severity: 'notice', message: 'hello world' });
    expect(one('<13>')).toMatchObject({ message: '' });
    // With a timestamp the next token is the host (RFC 3164 §4.1.2), then a tag if it has the shape of one.
    expect(one('<13>Nov 25 14:14:12 vm hello there')).toMatchObject({ hostname: 'vm', message: 'hello there' });
    expect(one('<13>Nov 25 14:14:12 fe80::1 kernel: link up')).toMatchObject({ hostname: 'fe80::1', app: 'kernel', message: 'link up' });
  });
});

describe('RFC 5424', () => {
  it('util-linux logger --rfc5424 with MSGID and structured data (escaped quote)', () => {
    const line = one(
      '<11>1 2026-11-25T14:14:12.805205+00:00 vm mytag - ID47 [timeQuality tzKnown="1" isSynced="0"][ex@32473 a="b\\"c"] hello 5424',
    );
    expect(line).toEqual({
      format: 'rfc5424',
      pri: 11,
      facility: 'user',
      severity: 'err',
      timestamp: '2026-11-25T14:14:12.805205+00:00',
      hostname: 'vm',
      app: 'mytag',
      msgId: 'ID47',
      structuredData: [
        { id: 'timeQuality', params: [{ name: 'tzKnown', value: '1' }, { name: 'isSynced', value: '0' }] },
        { id: 'ex@32473', params: [{ name: 'a', value: 'b"c' }] },
      ],
      message: 'hello 5424',
    });
  });

  it('nil values, a PROCID, no message, a BOM before MSG', () => {
    expect(one('<13>1 - - root - - - nt')).toEqual({ format: 'rfc5424', pri: 13, facility: 'user', severity: 'notice', app: 'root', message: 'nt' });
    expect(one('<13>1 2026-11-25T14:14:12.812292+00:00 vm root 18702 - [timeQuality tzKnown="1" isSynced="0"] plain')).toMatchObject({
      procId: '18702',
      message: 'plain',
    });
    expect(one('<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 -')).toMatchObject({ message: '', msgId: 'ID47' });
    expect(one('<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - \ufeff%% It\'s time')).toMatchObject({
      hostname: '192.0.2.1',
      message: "%% It's time",
    });
    expect(one('<13>1 - - a - - [x y="a\\b\\]c"] m').structuredData).toEqual([{ id: 'x', params: [{ name: 'y', value: 'a\\b]c' }] }]);
  });

  it('logger --octet-count over UDP: the RFC 6587 length prefix is dropped', () => {
    const body = '<13>1 2026-11-25T14:14:12.821730+00:00 vm root - - [timeQuality tzKnown="1" isSynced="0"] oc';
    expect(one(`${Buffer.byteLength(body)} ${body}`)).toMatchObject({ format: 'rfc5424', message: 'oc' });
    // A number that is not the length is message text.
    expect(() => decodeSyslog(bytes(`7 ${body}`))).toThrow(/no PRI/);
  });
});

describe('lines', () => {
  it('continuation lines keep the priority, host and app; a new <PRI> starts a new message', () => {
    const lines = decodeSyslog(bytes('<13>Nov 25 14:14:12 vm x[18704]: multi\nline\n\n<11>ipxe: next\n'));
    expect(lines.map((line) => [line.severity, line.hostname, line.app, line.message])).toEqual([
      ['notice', 'vm', 'x', 'multi'],
      ['notice', 'vm', 'x', 'line'],
      ['err', undefined, 'ipxe', 'next'],
    ]);
  });

  it('a later line that only looks like a header is text', () => {
    const lines = decodeSyslog(bytes('<13>a: one\n<999>two'));
    expect(lines.map((line) => line.message)).toEqual(['one', '<999>two']);
  });

  it('escape sequences are removed, control characters shown, long text cut', () => {
    expect(one('<13>systemd[1]: \x1b[0;32m  OK  \x1b[0m Reached target\x07 \x01end\r\n').message).toBe('  OK   Reached target\\x07 \\x01end');
    const long = decodeSyslog(bytes(`<13>${'x'.repeat(3000)}`), { maxMessageLength: 100 })[0]!;
    expect(long.message).toHaveLength(101);
    expect(long.truncated).toBe(true);
    expect(decodeSyslog(Buffer.concat([bytes('<13>tag: caf'), Buffer.from([0xc3, 0xa9])]))[0]!.message).toBe('café');
    expect(decodeSyslog(Buffer.from([0x3c, 0x31, 0x33, 0x3e, 0xff, 0x41]))[0]!.message).toBe('\ufffdA');
    expect(one('<6>ipxe: nul-terminated\0').message).toBe('nul-terminated');
  });
});

describe('malformed datagrams fail with the field and the offset', () => {
  const cases: readonly [string, string | Buffer, RegExp, number][] = [
    ['empty', Buffer.alloc(0), /^empty datagram/, 0],
    ['only line breaks', '\n\r\n\0 ', /no text/, 0],
    ['no PRI', 'hello', /^no PRI.*"hello"/, 0],
    ['netconsole text', '[    1.234] e1000: eth0 up', /^no PRI/, 0],
    ['PRI without digits', '<>x', /PRI has no digits/, 1],
    ['PRI not closed', '<13 hello', /PRI not closed by ">" after 2 digits/, 3],
    ['PRI too long', '<1234>x', /PRI not closed by ">" after 3 digits/, 4],
    ['PRI out of range', '<192>x', /PRI 192 is out of range \(0-191\)/, 1],
    ['PRI negative', '<-1>x', /PRI has no digits/, 1],
    ['version 2', '<13>2 - - - - - -', /VERSION 2 is not supported/, 4],
    ['5424 header cut short', '<13>1 - host app', /PROCID missing: the line ends after APP-NAME/, 16],
    ['5424 header ends in a space', '<13>1 - host ', /APP-NAME missing: the line ends/, 13],
    ['5424 bad timestamp', '<13>1 2026-13-01T00:00:00Z h a - - -', /TIMESTAMP "2026-13-01T00:00:00Z" is not an RFC 3339/, 6],
    ['5424 BSD timestamp', '<13>1 Nov 25 14:14:12 h a - - -', /TIMESTAMP "Nov" is not an RFC 3339/, 6],
    ['5424 double space', '<13>1 -  a - - -', /HOSTNAME empty/, 8],
    ['5424 app too long', `<13>1 - h ${'a'.repeat(49)} - - -`, /APP-NAME longer than 48/, 10],
    ['5424 non-ASCII host', '<13>1 - hôte a - - -', /HOSTNAME has a character outside printable ASCII/, 8],
    ['5424 SD missing', '<13>1 - h a - - ', /STRUCTURED-DATA must be "-" or start with "\[" \(got the end of the line\)/, 16],
    ['5424 SD garbage', '<13>1 - h a - - x msg', /STRUCTURED-DATA must be "-"/, 16],
    ['5424 SD unclosed value', '<13>1 - h a - - [id p="v] msg', /PARAM-VALUE of "p" has no closing quote/, 16],
    ['5424 SD unquoted value', '<13>1 - h a - - [id p=v]', /PARAM-VALUE of "p" does not start with a quote/, 22],
    ['5424 SD no =', '<13>1 - h a - - [id p]', /PARAM-NAME "p" not followed by =/, 21],
    ['5424 SD not closed', '<13>1 - h a - - [id p="v" msg', /PARAM-NAME "msg" not followed by =/, 29],
    ['5424 SD-ID empty', '<13>1 - h a - - [] m', /SD-ID "" is not 1-32/, 17],
    ['5424 no space before MSG', '<13>1 - h a - - -msg', /not followed by a space before MSG/, 17],
  ];
  for (const [name, input, pattern, offset] of cases) {
    it(name, () => {
      let caught: unknown;
      try {
        decodeSyslog(typeof input === 'string' ? bytes(input) : input);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(SyslogDecodeError);
      expect((caught as SyslogDecodeError).message).toMatch(pattern);
      expect((caught as SyslogDecodeError).offset).toBe(offset);
      expect((caught as SyslogDecodeError).message).toMatch(new RegExp(`at offset ${offset}$`));
    });
  }
});
