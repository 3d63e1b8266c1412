// Everything a lab VM boots: a Debian cloud kernel and a busybox initrd built once into .cache/lab/,
// plus the paths of the Debian-packaged boot binaries and OVMF images.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, chmodSync, writeFileSync, copyFileSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './exec.js';

export const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
export const labCacheDir = join(repoRoot, '.cache', 'lab');

/** The initrd's /init prints this, then the value of `pxedeck.marker=` from the kernel command line. */
export const bootMarker = 'PXEDECK-BOOTED';

export const bootBinaryPaths = {
  undionlyKpxe: '/usr/lib/ipxe/undionly.kpxe',
  ipxeEfi: '/usr/lib/ipxe/ipxe.efi',
  snponlyEfi: '/usr/lib/ipxe/snponly.efi',
  ipxeLkrn: '/usr/lib/ipxe/ipxe.lkrn',
  pxelinux0: '/usr/lib/PXELINUX/pxelinux.0',
  ldlinuxC32: '/usr/lib/syslinux/modules/bios/ldlinux.c32',
} as const;

export const ovmfPaths = {
  code: '/usr/share/OVMF/OVMF_CODE_4M.fd',
  vars: '/usr/share/OVMF/OVMF_VARS_4M.fd',
  /** Secure Boot build; its variables have Microsoft's keys enrolled, so shim (Microsoft-signed) starts. */
  secureBootCode: '/usr/share/OVMF/OVMF_CODE_4M.ms.fd',
  secureBootVars: '/usr/share/OVMF/OVMF_VARS_4M.ms.fd',
} as const;

/** The initrd prints this with `enabled`, `disabled` or `unknown`: what the kernel logged about Secure Boot. */
export const secureBootMarker = 'PXEDECK-SECUREBOOT';

// Which Debian package ships each file, for skip reasons a person can act on.
const packageOf: Record<string, string> = {
  [bootBinaryPaths.undionlyKpxe]: 'ipxe',
  [bootBinaryPaths.ipxeEfi]: 'ipxe',
  [bootBinaryPaths.snponlyEfi]: 'ipxe',
  [bootBinaryPaths.ipxeLkrn]: 'ipxe',
  [bootBinaryPaths.pxelinux0]: 'pxelinux',
  [bootBinaryPaths.ldlinuxC32]: 'syslinux-common',
  [ovmfPaths.code]: 'ovmf',
  [ovmfPaths.vars]: 'ovmf',
  [ovmfPaths.secureBootCode]: 'ovmf',
  [ovmfPaths.secureBootVars]: 'ovmf',
  '/usr/bin/qemu-system-x86_64': 'qemu-system-x86',
  '/usr/lib/ipxe/qemu/efi-virtio.rom': 'ipxe-qemu',
  '/bin/busybox': 'busybox-static',
  '/usr/bin/cpio': 'cpio',
  '/usr/sbin/dnsmasq': 'dnsmasq-base',
  '/usr/bin/tcpdump': 'tcpdump',
};

export type BootBinaries = { -readonly [K in keyof typeof bootBinaryPaths]: string };

export type LabArtifacts = {
  /** bzImage extracted from the Debian cloud kernel package. */
  kernel: string;
  /** gzip'd newc cpio: static busybox + /init that prints the boot marker on ttyS0 and powers off. */
  initrd: string;
  /** Debian package version string of the kernel, e.g. linux-image-6.1.0-56-cloud-amd64 6.1.192-2. */
  kernelPackage: string;
  bootBinaries: BootBinaries;
  ovmf: { code: string; vars: string };
};

/** Files the lab needs from Debian packages that are missing, each with the package that provides it. */
export function missingLabFiles(): string[] {
  return Object.entries(packageOf)
    .filter(([path]) => !existsSync(path))
    .map(([path, pkg]) => `${path} (Debian package ${pkg})`);
}

/**
 * Kernel command line the initrd understands: console on the serial port, the marker value to print,
 * and panic=-1 so a failed boot reboots at once (QEMU runs with -no-reboot and exits) instead of hanging.
 */
export function labKernelCmdline(marker: string, initrdName = 'initrd.gz'): string {
  // initrd=<name> is required by the 2019 Debian ipxe.efi to hand the initrd to Linux; harmless elsewhere.
  return `initrd=${initrdName} console=ttyS0,115200 panic=-1 quiet pxedeck.marker=${marker}`;
}

const initScript = `#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys
/bin/busybox mount -t proc proc /proc
marker=-
for word in $(/bin/busybox cat /proc/cmdline); do
  case "$word" in pxedeck.marker=*) marker="\${word#pxedeck.marker=}" ;; esac
done
# The kernel logs "secureboot: Secure boot enabled" (or disabled); quiet keeps it off the console, not out of dmesg.
sb=$(/bin/busybox dmesg | /bin/busybox sed -n 's/.*secureboot: Secure boot \\([a-z]*\\).*/\\1/p' | /bin/busybox head -n 1)
echo "${secureBootMarker} \${sb:-unknown}" > /dev/ttyS0
echo "${bootMarker} $marker" > /dev/ttyS0
echo "PXEDECK-CMDLINE $(/bin/busybox cat /proc/cmdline)" > /dev/ttyS0
/bin/busybox sync
/bin/busybox poweroff -f
`;

let pending: Promise<LabArtifacts> | undefined;

/** Builds the kernel and initrd into .cache/lab once (reused across runs), and checks the packaged binaries. */
export function ensureLabArtifacts(): Promise<LabArtifacts> {
  pending ??= build().catch((error: unknown) => {
    pending = undefined;
    throw error;
  });
  return pending;
}

async function build(): Promise<LabArtifacts> {
  const missing = missingLabFiles();
  if (missing.length > 0) throw new Error(`lab prerequisites missing: ${missing.join(', ')}`);
  mkdirSync(labCacheDir, { recursive: true });
  const { kernel, kernelPackage } = await ensureKernel();
  const initrd = await ensureInitrd();
  return { kernel, initrd, kernelPackage, bootBinaries: { ...bootBinaryPaths }, ovmf: { ...ovmfPaths } };
}

async function cloudKernelPackage(): Promise<string> {
  const depends = async () => (await run('apt-cache', ['depends', 'linux-image-cloud-amd64'])).stdout;
  let text = await depends().catch(() => '');
  if (!/Depends:\s*linux-image-\S+-cloud-amd64/.test(text)) {
    // A fresh machine may not have package lists yet.
    await run('apt-get', ['update'], { timeoutMs: 300_000 });
    text = await depends();
  }
  const match = /Depends:\s*(linux-image-\S+-cloud-amd64)/.exec(text);
  if (!match?.[1]) throw new Error(`cannot find the kernel package linux-image-cloud-amd64 depends on:\n${text}`);
  return match[1];
}

async function ensureKernel(): Promise<{ kernel: string; kernelPackage: string }> {
  const kernel = join(labCacheDir, 'vmlinuz');
  const stamp = join(labCacheDir, 'vmlinuz.package');
  if (existsSync(kernel) && existsSync(stamp)) return { kernel, kernelPackage: readFileSync(stamp, 'utf8').trim() };
  const pkg = await cloudKernelPackage();
  const work = mkdtempSync(join(labCacheDir, 'kernel-'));
  try {
    const download = () => run('apt-get', ['download', pkg], { cwd: work, timeoutMs: 600_000 });
    // The lists may name a version the mirror no longer has; refresh once and retry.
    await download().catch(async () => {
      await run('apt-get', ['update'], { timeoutMs: 300_000 });
      await download();
    });
    const deb = readdirSync(work).find((name) => name.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download ${pkg} produced no .deb`);
    const version = (await run('dpkg-deb', ['-f', join(work, deb), 'Version'])).stdout.trim();
    await run('dpkg-deb', ['-x', join(work, deb), join(work, 'root')]);
    const vmlinuz = readdirSync(join(work, 'root', 'boot')).find((name) => name.startsWith('vmlinuz-'));
    if (!vmlinuz) throw new Error(`${deb} holds no /boot/vmlinuz-*`);
    // Rename into place last so a crashed build never leaves a half-written kernel that looks cached.
    copyFileSync(join(work, 'root', 'boot', vmlinuz), `${kernel}.tmp`);
    renameSync(`${kernel}.tmp`, kernel);
    writeFileSync(stamp, `${pkg} ${version}\n`);
    return { kernel, kernelPackage: `${pkg} ${version}` };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function ensureInitrd(): Promise<string> {
  const initrd = join(labCacheDir, 'initrd.gz');
  const stamp = join(labCacheDir, 'initrd.init');
  // Rebuild when /init changed, so editing the script here is enough.
  if (existsSync(initrd) && existsSync(stamp) && readFileSync(stamp, 'utf8') === initScript) return initrd;
  const work = mkdtempSync(join(labCacheDir, 'initrd-'));
  try {
    const root = join(work, 'root');
    for (const dir of ['bin', 'dev', 'proc', 'sys']) mkdirSync(join(root, dir), { recursive: true });
    copyFileSync('/bin/busybox', join(root, 'bin', 'busybox'));
    chmodSync(join(root, 'bin', 'busybox'), 0o755);
    writeFileSync(join(root, 'init'), initScript, { mode: 0o755 });
    // Device nodes must exist before devtmpfs could be mounted: the kernel opens /dev/console for init.
    await run('mknod', ['-m', '600', join(root, 'dev', 'console'), 'c', '5', '1']);
    await run('mknod', ['-m', '660', join(root, 'dev', 'ttyS0'), 'c', '4', '64']);
    await run('mknod', ['-m', '666', join(root, 'dev', 'null'), 'c', '1', '3']);
    await run('sh', ['-c', `cd "${root}" && find . | sort | cpio --quiet -o -H newc -R 0:0 | gzip -9 > "${initrd}.tmp"`]);
    renameSync(`${initrd}.tmp`, initrd);
    writeFileSync(stamp, initScript);
    return initrd;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
