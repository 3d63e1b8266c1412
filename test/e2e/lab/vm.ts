// One QEMU VM on a lab tap, network-booting with real firmware, watched through its serial log.
import { execFile } from 'node:child_process';
import { accessSync, constants, copyFileSync, existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { ensureLabArtifacts, labCacheDir, ovmfPaths, bootMarker, labKernelCmdline } from './artifacts.js';
import { sleep } from './exec.js';
import type { Lab, LabProcess, Tap } from './network.js';

export const firmwares = ['bios-ipxe', 'uefi-ipxe', 'uefi-pxe', 'uefi-pxe6', 'uefi-pxe-sb'] as const;
/**
 * bios-ipxe: SeaBIOS + QEMU's iPXE ROM (efi-virtio.rom's legacy image).
 * uefi-ipxe: OVMF + the same ROM's EFI iPXE driver.
 * uefi-pxe:  OVMF with the ROM removed (romfile=), so OVMF's own VirtioNetDxe + PXE base code boot.
 * uefi-pxe6: uefi-pxe with IPv4 PXE switched off through fw_cfg, so OVMF goes straight to PXEv6 (~5 s)
 *            instead of after its ~60 s IPv4 timeout.
 * uefi-pxe-sb: uefi-pxe with Secure Boot enforced: q35 with SMM, the Secure Boot OVMF build and a fresh
 *            copy of its variables with Microsoft's keys enrolled. Only Microsoft-signed loaders (shim) start.
 */
export type Firmware = (typeof firmwares)[number];
export type Accel = 'kvm' | 'tcg';

export type VmOptions = {
  lab: Lab;
  tap: Tap;
  firmware: Firmware;
  /** aa:bb:cc:dd:ee:ff; give each VM its own. */
  mac: string;
  /** SMBIOS UUID (option 97 / DHCPv6 DUID come from it); QEMU's default is all zeros. */
  uuid: string;
  name?: string;
  memoryMb?: number;
  /** Default: PXEDECK_LAB_ACCEL if set, else kvm when a probe boot under KVM works, else tcg. */
  accel?: Accel;
  /** More NICs after the first, each on its own tap, tried in this order after it (bootindex 2, 3…). */
  moreNics?: ReadonlyArray<{ tap: Tap; mac: string }>;
  /**
   * SeaBIOS mirrors the BIOS text console to the serial port (its `etc/sercon-port`), so what the iPXE ROM and
   * its scripts print (menus included) lands in the serial log. BIOS only; OVMF's console is on serial already.
   */
  biosConsoleOnSerial?: boolean;
  extraArgs?: readonly string[];
};

export type Vm = {
  readonly name: string;
  readonly firmware: Firmware;
  readonly mac: string;
  readonly uuid: string;
  readonly accel: Accel;
  readonly serialLog: string;
  readonly process: LabProcess;
  /** Date.now() just before QEMU was spawned. */
  readonly startedAt: number;
  serial(): string;
  /** Resolves with the first match in the serial log; rejects on timeout or when QEMU exits first. */
  waitForSerial(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** The marker line the lab initrd prints: `PXEDECK-BOOTED <pxedeck.marker value>`. */
  waitForBoot(timeoutMs: number): Promise<string>;
  /** Resolves with QEMU's exit code (the initrd powers off, so a finished boot exits by itself). */
  waitForExit(timeoutMs: number): Promise<number | string>;
  stop(): Promise<void>;
};

/** Random locally administered unicast MAC in 52:54:00 (QEMU's OUI would do too, but this cannot clash). */
export function labMac(index: number): string {
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  const r = () => Math.floor(Math.random() * 256);
  return ['52', '54', '77', hex(r()), hex(r()), hex(index & 0xff)].join(':');
}

export function labUuid(): string {
  return randomUUID();
}

let accelDecision: Promise<Accel> | undefined;

/**
 * KVM is used only when it really boots the lab kernel: /dev/kvm can open fine yet hang every guest
 * (nested setups missing CPU features do exactly that on our dev machines), so a real probe decides.
 * The answer is cached per host boot in .cache/lab/accel.json.
 */
export function chooseAccel(): Promise<Accel> {
  const forced = process.env.PXEDECK_LAB_ACCEL;
  if (forced === 'kvm' || forced === 'tcg') return Promise.resolve(forced);
  accelDecision ??= probeAccel();
  return accelDecision;
}

async function probeAccel(): Promise<Accel> {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return 'tcg';
  }
  const bootId = existsSync('/proc/sys/kernel/random/boot_id') ? readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() : '';
  const cacheFile = join(labCacheDir, 'accel.json');
  try {
    const cached = JSON.parse(readFileSync(cacheFile, 'utf8')) as { bootId?: string; accel?: Accel };
    if (cached.bootId === bootId && (cached.accel === 'kvm' || cached.accel === 'tcg')) return cached.accel;
  } catch {
    // no cache yet
  }
  const artifacts = await ensureLabArtifacts();
  const log = join(labCacheDir, 'accel-probe.log');
  writeFileSync(log, '');
  const ok = await new Promise<boolean>((resolve) => {
    // No network, no firmware boot: direct kernel boot is ~2 s under TCG and well under 1 s with working KVM.
    execFile(
      'qemu-system-x86_64',
      ['-accel', 'kvm', '-cpu', 'host', '-m', '256', '-display', 'none', '-nodefaults', '-no-reboot',
        '-serial', `file:${log}`, '-kernel', artifacts.kernel, '-initrd', artifacts.initrd,
        '-append', labKernelCmdline('accel-probe')],
      { timeout: 8000 },
      (error) => resolve(!error && readFileSync(log, 'utf8').includes(`${bootMarker} accel-probe`)),
    );
  });
  const accel: Accel = ok ? 'kvm' : 'tcg';
  mkdirSync(labCacheDir, { recursive: true });
  writeFileSync(cacheFile, JSON.stringify({ bootId, accel, probedAt: new Date().toISOString() }) + '\n');
  return accel;
}

export async function startVm(opts: VmOptions): Promise<Vm> {
  const accel = opts.accel ?? (await chooseAccel());
  const name = opts.name ?? `vm-${opts.mac.replaceAll(':', '')}`;
  const serialLog = join(opts.lab.dir, `${name}.serial.log`);
  writeFileSync(serialLog, '');
  const uefi = opts.firmware !== 'bios-ipxe';
  // QEMU's default ROM for virtio-net-pci is efi-virtio.rom (legacy + EFI iPXE); an empty romfile removes it.
  const nic = ['virtio-net-pci', 'netdev=net0', `mac=${opts.mac}`, 'bootindex=1'];
  const secureBoot = opts.firmware === 'uefi-pxe-sb';
  if (opts.firmware === 'uefi-pxe' || opts.firmware === 'uefi-pxe6' || secureBoot) nic.push('romfile=');
  const args = [
    '-name', name,
    // Secure Boot variables are only protected (and so only enforced) with SMM on q35.
    ...(secureBoot ? ['-machine', 'q35,smm=on', '-global', 'driver=cfi.pflash01,property=secure,value=on'] : []),
    '-accel', accel,
    // -cpu host is what works under KVM; TCG's default qemu64 boots the Debian kernel fine.
    ...(accel === 'kvm' ? ['-cpu', 'host'] : []),
    '-m', String(opts.memoryMb ?? 256),
    '-smp', '1',
    '-nodefaults',
    '-display', 'none',
    '-vga', 'none',
    '-serial', `file:${serialLog}`,
    '-monitor', 'none',
    '-no-reboot',
    '-uuid', opts.uuid,
    '-netdev', `tap,id=net0,ifname=${opts.tap.name},script=no,downscript=no`,
    '-device', nic.join(','),
    '-boot', 'n',
  ];
  if (uefi) {
    const vars = join(opts.lab.dir, `${name}.OVMF_VARS.fd`);
    copyFileSync(secureBoot ? ovmfPaths.secureBootVars : ovmfPaths.vars, vars);
    args.push(
      '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${secureBoot ? ovmfPaths.secureBootCode : ovmfPaths.code}`,
      '-drive', `if=pflash,format=raw,unit=1,file=${vars}`,
    );
  }
  (opts.moreNics ?? []).forEach((extra, index) => {
    const id = `net${index + 1}`;
    const device = ['virtio-net-pci', `netdev=${id}`, `mac=${extra.mac}`, `bootindex=${index + 2}`];
    if (opts.firmware === 'uefi-pxe' || opts.firmware === 'uefi-pxe6') device.push('romfile=');
    args.push('-netdev', `tap,id=${id},ifname=${extra.tap.name},script=no,downscript=no`, '-device', device.join(','));
  });
  if (opts.biosConsoleOnSerial && !uefi) {
    // The I/O port of COM1 (0x3f8), little-endian, as SeaBIOS reads the file.
    const port = join(opts.lab.dir, `${name}.sercon-port`);
    writeFileSync(port, Buffer.from([0xf8, 0x03]));
    args.push('-fw_cfg', `name=etc/sercon-port,file=${port}`);
  }
  // OvmfPkg's PxeBcPcdProducerLib (2020+) reads these; IPv6 PXE is on by default.
  if (opts.firmware === 'uefi-pxe6') args.push('-fw_cfg', 'name=opt/org.tianocore/IPv4PXESupport,string=n');
  args.push(...(opts.extraArgs ?? []));
  const startedAt = Date.now();
  const proc = opts.lab.spawn(opts.tap.ns, 'qemu-system-x86_64', args, { logFile: join(opts.lab.dir, `${name}.qemu.log`) });

  const serial = () => readFileSync(serialLog, 'utf8');
  const waitForSerial = async (pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = serial().match(pattern);
      if (match) return match;
      if (proc.hasExited()) {
        throw new Error(`${name} (${opts.firmware}) exited before serial matched ${pattern}; tail:\n${serial().slice(-1500)}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`${name} (${opts.firmware}): no ${pattern} on serial within ${timeoutMs} ms; tail:\n${serial().slice(-1500)}`);
      }
      await sleep(100);
    }
  };
  return {
    name,
    firmware: opts.firmware,
    mac: opts.mac,
    uuid: opts.uuid,
    accel,
    serialLog,
    process: proc,
    startedAt,
    serial,
    waitForSerial,
    // The whole line: the serial log is read while the VM writes it, and a half-written marker would match.
    waitForBoot: async (timeoutMs) => (await waitForSerial(new RegExp(`${bootMarker} (\\S+)\\r?\\n`), timeoutMs))[1] ?? '',
    waitForExit: async (timeoutMs) => {
      const result = await Promise.race([proc.exited, sleep(timeoutMs).then(() => 'timeout' as const)]);
      if (result === 'timeout') throw new Error(`${name} still running after ${timeoutMs} ms`);
      return result;
    },
    stop: () => proc.stop(2000),
  };
}
