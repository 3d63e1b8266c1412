import { describe, expect, it } from 'vitest';
import type { Mac } from '../../../src/protocol/mac.js';
import { chainRetryDelays, parseScriptQuery, renderBootScript } from '../../../src/servers/http/boot-script.js';
import { baseUrlFor } from '../../../src/servers/http/server.js';

describe('renderBootScript', () => {
  const script = renderBootScript('http://10.77.0.1:8080');
  const lines = script.split('\n');

  it('is an iPXE script that chains to /ipxe on the given base with the booting NIC and machine identity', () => {
    expect(lines[0]).toBe('#!ipxe');
    const set = lines.find((line) => line.startsWith('set pxedeck-script '))!;
    const url = new URL(set.slice('set pxedeck-script '.length).replace(/\$\{[^}]+\}/g, 'X'));
    expect(url.origin).toBe('http://10.77.0.1:8080');
    expect(url.pathname).toBe('/ipxe');
    expect([...url.searchParams.keys()]).toEqual(['mac', 'uuid', 'arch', 'platform', 'enc', 'manufacturer', 'product', 'serial', 'hostname']);
    expect(set).toContain('mac=${netX/mac:hexhyp}');
    expect(set).toContain('arch=${buildarch}');
    // Free text goes as hex: the 2019 iPXE's uristring leaves `&` and `+` unescaped.
    expect(set).toContain('enc=hex');
    for (const name of ['manufacturer', 'product', 'serial', 'hostname']) expect(set).toContain(`${name}=\${${name}:hexraw}`);
  });

  it('retries the chain with growing waits, then exits to the next boot device instead of a shell', () => {
    const chains = lines.filter((line) => line.startsWith('chain '));
    expect(chains).toHaveLength(chainRetryDelays.length + 1);
    expect(lines.filter((line) => line.startsWith('sleep ')).map((line) => Number(line.split(' ')[1]))).toEqual([...chainRetryDelays, 5]);
    expect(lines.at(-2)).toBe(':pxedeck-end');
    expect(lines).toContain('exit 1');
    expect(script).not.toMatch(/^shell$/m);
  });

  it('jumps only to labels it defines', () => {
    const labels = new Set(lines.filter((line) => line.startsWith(':')).map((line) => line.slice(1)));
    const targets = [...script.matchAll(/goto (\S+)/g)].map((match) => match[1]!);
    expect(targets.length).toBeGreaterThan(0);
    for (const target of targets) expect(labels.has(target), target).toBe(true);
  });

  it('uses only commands the Debian iPXE builds have (no `inc`)', () => {
    const commands = new Set(lines.filter((line) => line && !line.startsWith('#') && !line.startsWith(':')).map((line) => line.split(' ')[0]));
    expect([...commands].sort()).toEqual(['chain', 'echo', 'exit', 'goto', 'set', 'sleep']);
  });
});

describe('baseUrlFor', () => {
  it('uses a plain Host header as the client sent it', () => {
    expect(baseUrlFor('10.77.0.1:8080', '10.77.0.1', 8080)).toBe('http://10.77.0.1:8080');
    expect(baseUrlFor('[fd77::1]:8080', 'fd77::1', 8080)).toBe('http://[fd77::1]:8080');
    expect(baseUrlFor('boot.lab', '10.77.0.1', 80)).toBe('http://boot.lab');
  });

  it('falls back to the local end of the socket, IPv6 bracketed, when Host is missing or not a plain host', () => {
    expect(baseUrlFor(undefined, '::ffff:10.77.0.1', 8080)).toBe('http://10.77.0.1:8080');
    expect(baseUrlFor(undefined, 'fd77::1', 8080)).toBe('http://[fd77::1]:8080');
    expect(baseUrlFor('evil ${shell}', '10.77.0.1', 80)).toBe('http://10.77.0.1');
    expect(baseUrlFor('a.b/../x', '10.77.0.1', 8080)).toBe('http://10.77.0.1:8080');
    expect(baseUrlFor('[not-ipv6]:80', 'fd77::1', 8080)).toBe('http://[fd77::1]:8080');
    expect(baseUrlFor(undefined, 'fe80::1%eth0', 8080)).toBe('http://[fe80::1%25eth0]:8080');
  });
});

describe('parseScriptQuery', () => {
  const query = (text: string) => new URLSearchParams(text);
  const M = '52:54:00:00:00:01' as Mac;

  const hex = (text: string) => Buffer.from(text).toString('hex');

  it('reads what /boot.ipxe sends, free text from hex', () => {
    const parsed = parseScriptQuery(
      query(`mac=52-54-00-AB-CD-EF&uuid=8C3F1E2A-0000-4000-8000-000000000001&arch=x86_64&platform=efi&enc=hex&manufacturer=${hex('QEMU')}&product=${hex('Standard PC (Q35 + ICH9, 2009) & co')}&serial=&hostname=${hex('node1')}`),
      '10.77.0.5',
      '52:54:00:ab:cd:ef' as Mac,
    );
    expect(parsed).toEqual({
      kind: 'ok',
      request: {
        mac: '52:54:00:ab:cd:ef',
        ip: '10.77.0.5',
        uuid: '8c3f1e2a-0000-4000-8000-000000000001',
        arch: 'x86_64',
        buildarch: 'x86_64',
        platform: 'efi',
        manufacturer: 'QEMU',
        product: 'Standard PC (Q35 + ICH9, 2009) & co',
        hostname: 'node1',
      },
    });
  });

  it('reads plain text when the query is not marked enc=hex (a hand-written URL)', () => {
    expect(parseScriptQuery(query('mac=525400000001&product=4142&serial=ab'), '::1', M)).toMatchObject({ kind: 'ok', request: { product: '4142', serial: 'ab' } });
    expect(parseScriptQuery(query('mac=525400000001&enc=hex&product=4142&serial=zz'), '::1', M)).toMatchObject({ kind: 'ok', request: { product: 'AB' } });
  });

  it('drops the all-zero and all-ones UUIDs firmware reports when it has none', () => {
    for (const uuid of ['00000000-0000-0000-0000-000000000000', 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF']) {
      const parsed = parseScriptQuery(query(`mac=525400000001&uuid=${uuid}`), '::1', M);
      expect(parsed.kind === 'ok' && parsed.request.uuid).toBeUndefined();
    }
  });

  it('drops malformed UUIDs, control characters and overlong values', () => {
    const parsed = parseScriptQuery(query(`mac=525400000001&uuid=nope&serial=a%00b%0Ac&hostname=${'h'.repeat(1000)}`), '::1', M);
    expect(parsed.kind).toBe('ok');
    if (parsed.kind !== 'ok') return;
    expect(parsed.request.uuid).toBeUndefined();
    expect(parsed.request.serial).toBe('abc');
    expect(parsed.request.hostname).toBeUndefined();
  });

  it.each(['node1 || shell', '${net0/ip}', '#x', 'a b', 'x;y'])('leaves out hostname, arch and platform %j, and says so', (value) => {
    const text = encodeURIComponent(value);
    const parsed = parseScriptQuery(query(`mac=525400000001&arch=${text}&platform=${text}&enc=hex&hostname=${hex(value)}&product=${hex(value)}`), '::1', M);
    expect(parsed.kind).toBe('ok');
    if (parsed.kind !== 'ok') return;
    expect(parsed.request).toEqual({ mac: '52:54:00:00:00:01', ip: '::1', product: value });
    expect(parsed.unused).toMatch(/^not used, each must be one word .*: arch ".*", platform ".*", hostname ".*"$/);
  });
});
