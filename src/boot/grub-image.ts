/**
 * Which modules a GRUB EFI image has built in. Under Secure Boot a signed GRUB cannot load modules from the
 * network (they are unsigned), so what it can read its config and kernels over is fixed at build time:
 * Debian 12's grubnetx64 has `tftp` and no `http`. grub-mkimage appends each module as an ELF object whose
 * `.modname` section holds its name; finding those is enough (and what `grub-mkimage` itself writes).
 */

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
const ELFCLASS64 = 2;

function sectionName(strtab: Buffer, offset: number): string {
  const end = strtab.indexOf(0, offset);
  return strtab.toString('latin1', offset, end < 0 ? strtab.length : end);
}

/** The module name of the 64-bit little-endian ELF object at `start`, or undefined when it is not one. */
function moduleNameAt(image: Buffer, start: number): string | undefined {
  const view = image.subarray(start);
  if (view.length < 64 || view[4] !== ELFCLASS64 || view[5] !== 1) return undefined;
  const shoff = Number(view.readBigUInt64LE(0x28));
  const shentsize = view.readUInt16LE(0x3a);
  const shnum = view.readUInt16LE(0x3c);
  const shstrndx = view.readUInt16LE(0x3e);
  if (shentsize < 64 || shnum === 0 || shstrndx >= shnum || shoff + shnum * shentsize > view.length) return undefined;
  const section = (index: number) => {
    const at = shoff + index * shentsize;
    return { name: view.readUInt32LE(at), offset: Number(view.readBigUInt64LE(at + 0x18)), size: Number(view.readBigUInt64LE(at + 0x20)) };
  };
  const names = section(shstrndx);
  if (names.offset + names.size > view.length) return undefined;
  const strtab = view.subarray(names.offset, names.offset + names.size);
  for (let index = 0; index < shnum; index++) {
    const candidate = section(index);
    if (candidate.name >= strtab.length || sectionName(strtab, candidate.name) !== '.modname') continue;
    if (candidate.offset + candidate.size > view.length) return undefined;
    return view.toString('latin1', candidate.offset, candidate.offset + candidate.size).replace(/\0+$/, '');
  }
  return undefined;
}

export function grubBuiltinModules(image: Buffer): ReadonlySet<string> {
  const modules = new Set<string>();
  for (let at = image.indexOf(ELF_MAGIC); at >= 0; at = image.indexOf(ELF_MAGIC, at + 4)) {
    const name = moduleNameAt(image, at);
    if (name) modules.add(name);
  }
  return modules;
}
