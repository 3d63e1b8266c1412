// Which modules a GRUB EFI image has built in: from each appended module's ELF `.modname` section.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { grubBuiltinModules } from '../../src/boot/grub-image.js';

/** A minimal 64-bit little-endian ELF object with sections: null, .modname (holding `name`), .shstrtab. */
function moduleObject(name: string): Buffer {
  const shstrtab = Buffer.from('\0.modname\0.shstrtab\0', 'latin1');
  const modname = Buffer.from(`${name}\0`, 'latin1');
  const header = Buffer.alloc(64);
  const dataStart = 64;
  const shoff = dataStart + modname.length + shstrtab.length;
  header.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  header.writeBigUInt64LE(BigInt(shoff), 0x28);
  header.writeUInt16LE(64, 0x3a);
  header.writeUInt16LE(3, 0x3c);
  header.writeUInt16LE(2, 0x3e);
  const section = (nameOffset: number, offset: number, size: number) => {
    const entry = Buffer.alloc(64);
    entry.writeUInt32LE(nameOffset, 0);
    entry.writeBigUInt64LE(BigInt(offset), 0x18);
    entry.writeBigUInt64LE(BigInt(size), 0x20);
    return entry;
  };
  return Buffer.concat([header, modname, shstrtab, section(0, 0, 0), section(1, dataStart, modname.length), section(10, dataStart + modname.length, shstrtab.length)]);
}

describe('GRUB image modules', () => {
  it('finds every appended module, and nothing in bytes that only look like an ELF start', () => {
    const image = Buffer.concat([Buffer.from('MZ PE header and GRUB kernel \x7fELF truncated'), moduleObject('tftp'), Buffer.alloc(13), moduleObject('http'), moduleObject('efinet')]);
    expect([...grubBuiltinModules(image)].sort()).toEqual(['efinet', 'http', 'tftp']);
    expect(grubBuiltinModules(Buffer.from('no modules here')).size).toBe(0);
  });

  const debian = '/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed';
  it.skipIf(!existsSync(debian))("Debian 12's signed network GRUB reads TFTP and not HTTP (so UEFI HTTP Boot cannot get the chain)", () => {
    const modules = grubBuiltinModules(readFileSync(debian));
    expect(modules.has('tftp') && modules.has('efinet') && modules.has('linux')).toBe(true);
    expect(modules.has('http')).toBe(false);
  });
});
