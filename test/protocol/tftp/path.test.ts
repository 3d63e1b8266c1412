import { describe, expect, it } from 'vitest';
import { normalizeRequestPath } from '../../../src/protocol/tftp/path.js';

const latin1 = (bytes: number[]): string => Buffer.from(bytes).toString('latin1');

describe('request path normalisation', () => {
  it.each([
    ['pxelinux.0', 'pxelinux.0'],
    ['pxelinux.cfg/01-52-54-00-12-34-56', 'pxelinux.cfg/01-52-54-00-12-34-56'],
    ['pxelinux.cfg\\default', 'pxelinux.cfg/default'],
    ['./ipxe.efi', 'ipxe.efi'],
    ['a//b/./c', 'a/b/c'],
    ['dir/', 'dir'],
    ['...', '...'],
    ['..foo', '..foo'],
    ['foo..', 'foo..'],
    ['100%', '100%'],
    ['caf\u00c3\u00a9', 'caf\u00e9'],
  ])('%j → %j', (name, path) => {
    expect(normalizeRequestPath(name)).toEqual({ ok: true, path });
  });

  it.each([
    ['..', 'parent'],
    ['../etc/passwd', 'parent'],
    ['a/../../etc/passwd', 'parent'],
    ['a/..', 'parent'],
    ['..\\..\\windows\\win.ini', 'parent'],
    ['a\\..\\b', 'parent'],
    ['/etc/passwd', 'absolute'],
    ['//server/share', 'absolute'],
    ['\\Boot\\BCD', 'absolute'],
    ['C:\\Windows\\win.ini', 'drive'],
    ['c:/boot.ini', 'drive'],
    ['%2e%2e/etc/passwd', 'percent'],
    ['..%2fetc%2fpasswd', 'percent'],
    ['%2E%2E%5C', 'percent'],
    ['file%00.txt', 'percent'],
    ['a\u0000b', 'NUL'],
    ['a\nb', 'control'],
    ['a\u007fb', 'control'],
    [latin1([0x2e, 0x2e, 0xc0, 0xaf, 0x65]), 'UTF-8'],
    [latin1([0xff, 0xfe]), 'UTF-8'],
    ['', 'empty'],
    ['.', 'names no file'],
    ['./', 'names no file'],
    ['x'.repeat(1025), 'longer'],
  ])('%j is refused (%s)', (name, reason) => {
    const result = normalizeRequestPath(name);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(reason);
  });

  it('root-relative mode reads /x and \\x under the root, and still refuses ..', () => {
    const options = { absolutePaths: 'root-relative' } as const;
    expect(normalizeRequestPath('/boot/grub/grub.cfg', options)).toEqual({ ok: true, path: 'boot/grub/grub.cfg' });
    expect(normalizeRequestPath('\\Boot\\BCD', options)).toEqual({ ok: true, path: 'Boot/BCD' });
    expect(normalizeRequestPath('/../etc/passwd', options).ok).toBe(false);
    expect(normalizeRequestPath('C:\\x', options).ok).toBe(false);
  });
});
