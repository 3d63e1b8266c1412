// Re-captures the DHCPv4 fixtures in test/fixtures/dhcp4 from real firmware booting in the VM lab.
//
//   npx tsx test/e2e/lab/capture-dhcp.ts            # run every scenario, print what was seen and timings
//   npx tsx test/e2e/lab/capture-dhcp.ts --write    # ... and (re)write the .hex files and manifest.json
//   npx tsx test/e2e/lab/capture-dhcp.ts --only full-bios-ipxe-rom --keep
//
// Needs root, qemu-system-x86, ipxe-qemu, ipxe, ovmf, dnsmasq-base, tcpdump, busybox-static (see README).
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureLabArtifacts, repoRoot } from './artifacts.js';
import { run } from './exec.js';
import { createLab, labServer4, type Lab, type LabHost } from './network.js';
import { startCapture, startDnsmasq, startHttpd, makeBootTree, type Dnsmasq } from './services.js';
import { startVm, type Firmware, type Vm } from './vm.js';
import type { DhcpDatagram } from './pcap.js';

type Scenario = {
  name: string;
  mode: 'full' | 'proxy';
  firmware: Firmware;
  /** Label per successive client transaction (xid); the boot chain, in order. */
  stages: readonly string[];
  /** Describes each stage's software for the manifest. */
  stageSoftware: Record<string, string>;
  /** Serve undionly.kpxe to the first iPXE, then switch dnsmasq to the normal config (see below). */
  chainUndionly?: boolean;
  mac: string;
  uuid: string;
  howCaptured: string;
  /** Seconds to wait for the boot marker; scenarios known not to boot wait less. */
  bootTimeoutS?: number;
};

const seabiosRom = 'SeaBIOS + QEMU iPXE option ROM (efi-virtio.rom, legacy image)';
const ovmfRom = 'OVMF + QEMU iPXE option ROM (efi-virtio.rom, EFI image)';
const ovmfPxe = "OVMF's own PXE base code (virtio-net-pci romfile= empty)";
const ipxeEfi = 'ipxe.efi (Debian ipxe) chainloaded by OVMF PXE over TFTP';
const undionly = 'undionly.kpxe (Debian ipxe) chainloaded by the BIOS iPXE ROM over TFTP';

const scenarios: readonly Scenario[] = [
  {
    name: 'full-bios-ipxe-rom',
    mode: 'full',
    firmware: 'bios-ipxe',
    stages: ['bios-ipxe-rom'],
    stageSoftware: { 'bios-ipxe-rom': seabiosRom },
    mac: '52:54:00:77:00:01',
    uuid: '7de1c0de-0001-4a11-8b00-000000000001',
    howCaptured: 'dnsmasq full DHCP; the ROM gets the HTTP iPXE script (user class iPXE) and boots the lab kernel',
  },
  {
    name: 'full-bios-chain-undionly',
    mode: 'full',
    firmware: 'bios-ipxe',
    stages: ['bios-ipxe-rom', 'bios-undionly-kpxe'],
    stageSoftware: { 'bios-ipxe-rom': seabiosRom, 'bios-undionly-kpxe': undionly },
    chainUndionly: true,
    mac: '52:54:00:77:00:02',
    uuid: '7de1c0de-0002-4a11-8b00-000000000002',
    howCaptured:
      'dnsmasq full DHCP first hands undionly.kpxe to everyone; once its TFTP log shows undionly.kpxe sent, dnsmasq restarts with the normal config, so undionly.kpxe gets the HTTP iPXE script',
  },
  {
    name: 'full-uefi-pxe-chain-ipxe-efi',
    mode: 'full',
    firmware: 'uefi-pxe',
    stages: ['uefi-ovmf-pxe', 'uefi-ipxe-efi'],
    stageSoftware: { 'uefi-ovmf-pxe': ovmfPxe, 'uefi-ipxe-efi': ipxeEfi },
    mac: '52:54:00:77:00:03',
    uuid: '7de1c0de-0003-4a11-8b00-000000000003',
    howCaptured: 'dnsmasq full DHCP; arch 7 without user class gets ipxe.efi over TFTP, ipxe.efi gets the HTTP iPXE script',
  },
  {
    name: 'full-uefi-ipxe-rom',
    mode: 'full',
    firmware: 'uefi-ipxe',
    stages: ['uefi-ipxe-rom'],
    stageSoftware: { 'uefi-ipxe-rom': ovmfRom },
    mac: '52:54:00:77:00:04',
    uuid: '7de1c0de-0004-4a11-8b00-000000000004',
    howCaptured: 'dnsmasq full DHCP; the EFI iPXE ROM gets the HTTP iPXE script',
  },
  {
    name: 'proxy-uefi-pxe',
    mode: 'proxy',
    firmware: 'uefi-pxe',
    stages: ['uefi-ovmf-pxe', 'uefi-ipxe-efi'],
    stageSoftware: { 'uefi-ovmf-pxe': ovmfPxe, 'uefi-ipxe-efi': ipxeEfi },
    mac: '52:54:00:77:00:05',
    uuid: '7de1c0de-0005-4a11-8b00-000000000005',
    howCaptured:
      'site dnsmasq (10.77.0.2) hands out addresses only; a second dnsmasq at 10.77.0.1 runs dhcp-range=...,proxy with pxe-service (PXE boot server on UDP 4011)',
  },
  {
    name: 'proxy-bios-ipxe-rom',
    mode: 'proxy',
    firmware: 'bios-ipxe',
    stages: ['bios-ipxe-rom'],
    stageSoftware: { 'bios-ipxe-rom': seabiosRom },
    mac: '52:54:00:77:00:06',
    uuid: '7de1c0de-0006-4a11-8b00-000000000006',
    howCaptured:
      'as proxy-uefi-pxe: site dnsmasq for addresses, proxy dnsmasq with pxe-service and dhcp-boot for user class iPXE. The ROM repeats its 4011 REQUEST 4 times, then makes no HTTP request: this does not boot',
    bootTimeoutS: 20,
  },
];

const httpPort = 8080;
const httpBase = `http://${labServer4}:${httpPort}`;
const scriptUrl = `${httpBase}/boot.ipxe`;

// A router advertisement on the segment: without one every iPXE waits ~13 s for IPv6 autoconfiguration.
const raArgs = (host: LabHost) => ['--enable-ra', `--dhcp-range=::,constructor:${host.iface},ra-only`];

function fullArgs(host: LabHost, tftpRoot: string, undionlyForAll: boolean): string[] {
  const args = [
    '--dhcp-range=10.77.0.100,10.77.0.199,255.255.255.0,10m',
    // Without it dnsmasq pings each address for ~3 s before offering it.
    '--no-ping',
    '--enable-tftp',
    `--tftp-root=${tftpRoot}`,
    ...raArgs(host),
  ];
  if (undionlyForAll) return [...args, '--dhcp-boot=undionly.kpxe'];
  return [
    ...args,
    '--dhcp-userclass=set:ipxe,iPXE',
    '--dhcp-match=set:efi64,option:client-arch,7',
    '--dhcp-boot=tag:!ipxe,tag:!efi64,undionly.kpxe',
    '--dhcp-boot=tag:!ipxe,tag:efi64,ipxe.efi',
    `--dhcp-boot=tag:ipxe,${scriptUrl}`,
  ];
}

function proxyArgs(tftpRoot: string): string[] {
  return [
    `--dhcp-range=10.77.0.0,proxy,255.255.255.0`,
    '--enable-tftp',
    `--tftp-root=${tftpRoot}`,
    '--dhcp-userclass=set:ipxe,iPXE',
    // dnsmasq appends ".0" to x86PC basenames and nothing else; the boot tree has undionly.0 for that.
    '--pxe-service=tag:!ipxe,x86PC,"pxedeck capture",undionly',
    '--pxe-service=tag:!ipxe,X86-64_EFI,"pxedeck capture",ipxe.efi',
    `--dhcp-boot=tag:ipxe,${scriptUrl}`,
  ];
}

type Timing = { scenario: string; accel: string; firstDiscoverS: number | undefined; stageAckS: Record<string, number>; bootMarkerS: number | undefined };

type RunResult = { scenario: Scenario; packets: DhcpDatagram[]; vm: Vm; timing: Timing; notes: string[] };

async function runScenario(lab: Lab, scenario: Scenario, bootTimeoutMs: number, filter: string): Promise<RunResult> {
  const notes: string[] = [];
  const tap = await lab.addTap();
  const tree = await makeBootTree(lab, { httpBase, marker: scenario.name });
  await run('cp', [join(tree.dir, 'undionly.kpxe'), join(tree.dir, 'undionly.0')]);
  // On the VM's tap: sees both directions of everything the VM exchanges, whichever server answers.
  const capture = await startCapture(lab, { ns: tap.ns, iface: tap.name, filter });
  await startHttpd(lab, lab.server, tree.dir, httpPort);
  let dnsmasq: Dnsmasq;
  if (scenario.mode === 'full') {
    dnsmasq = await startDnsmasq(lab, lab.server, fullArgs(lab.server, tree.dir, scenario.chainUndionly === true), 'dnsmasq-a');
  } else {
    const site = await lab.addHost({ ip4: '10.77.0.2', ip6: 'fd77::2', label: 'site' });
    await startDnsmasq(lab, site, ['--dhcp-range=10.77.0.100,10.77.0.199,255.255.255.0,10m', '--no-ping', ...raArgs(site)], 'dnsmasq-site');
    dnsmasq = await startDnsmasq(lab, lab.server, proxyArgs(tree.dir), 'dnsmasq-proxy');
  }
  const vm = await startVm({ lab, tap, firmware: scenario.firmware, mac: scenario.mac, uuid: scenario.uuid, name: scenario.name });
  if (scenario.chainUndionly) {
    // The ROM's iPXE and undionly.kpxe send identical options, so dnsmasq cannot tell them apart; switching
    // its config once the download is done plays the part of pxedeck's per-MAC state.
    await dnsmasq.waitForLog(/sent \S*undionly\.kpxe to/, bootTimeoutMs);
    await dnsmasq.stop();
    dnsmasq = await startDnsmasq(lab, lab.server, fullArgs(lab.server, tree.dir, false), 'dnsmasq-b');
  }
  let bootMarkerS: number | undefined;
  try {
    await vm.waitForBoot(bootTimeoutMs);
    bootMarkerS = (Date.now() - vm.startedAt) / 1000;
  } catch (error) {
    notes.push(`boot marker not reached: ${String(error).split('\n')[0]}`);
  }
  await vm.stop();
  await capture.stop();
  const packets = capture.dhcp().filter((p) => p.dhcp.chaddr === scenario.mac);
  const firstDiscover = packets.find((p) => p.dhcp.op === 1 && p.dhcp.messageType === 'DISCOVER');
  const timing: Timing = {
    scenario: scenario.name,
    accel: vm.accel,
    firstDiscoverS: firstDiscover ? (firstDiscover.time - vm.startedAt) / 1000 : undefined,
    stageAckS: {},
    bootMarkerS,
  };
  return { scenario, packets, vm, timing, notes };
}

type Fixture = { name: string; packet: DhcpDatagram; stage: string; direction: 'client-to-server' | 'server-to-client'; peer: string };

function serverRole(scenario: Scenario, p: DhcpDatagram): string {
  if (scenario.mode === 'full') return 'dnsmasq';
  if (p.srcPort === 4011) return 'proxy-dnsmasq-4011';
  return p.srcIp === '10.77.0.2' ? 'site-dnsmasq' : 'proxy-dnsmasq';
}

function pickFixtures(result: RunResult): Fixture[] {
  const { scenario, packets, timing, vm } = result;
  const stageOfXid = new Map<number, string>();
  let stageIndex = -1;
  const fixtures: Fixture[] = [];
  const taken = new Set<string>();
  const take = (name: string, f: Omit<Fixture, 'name'>) => {
    if (taken.has(name)) return;
    taken.add(name);
    fixtures.push({ name, ...f });
  };
  for (const p of packets) {
    const client = p.dhcp.op === 1;
    let stage = stageOfXid.get(p.dhcp.xid);
    if (stage === undefined) {
      if (!client) continue;
      // A transaction to the boot server belongs to the stage that got the proxy offer.
      if (p.dstPort !== 4011) stageIndex += 1;
      stage = scenario.stages[Math.max(stageIndex, 0)] ?? `stage${stageIndex}`;
      stageOfXid.set(p.dhcp.xid, stage);
    }
    const type = (p.dhcp.messageType ?? 'bootp').toLowerCase();
    // <scenario>.<stage>.<message>: the same firmware stage appears in several scenarios.
    const prefix = `${scenario.name}.${stage}`;
    if (client) {
      const suffix = p.dstPort === 4011 ? '-4011' : '';
      take(`${prefix}.${type}${suffix}`, { packet: p, stage, direction: 'client-to-server', peer: `${p.dstIp}:${p.dstPort}` });
    } else {
      take(`${prefix}.${type}-from-${serverRole(scenario, p)}`, { packet: p, stage, direction: 'server-to-client', peer: `${p.srcIp}:${p.srcPort}` });
      if (p.dhcp.messageType === 'ACK' && timing.stageAckS[stage] === undefined) timing.stageAckS[stage] = (p.time - vm.startedAt) / 1000;
    }
  }
  if (stageIndex + 1 > scenario.stages.length) result.notes.push(`saw ${stageIndex + 1} client transactions, expected ${scenario.stages.length}`);
  return fixtures;
}

const toHex = (b: Buffer) => (b.toString('hex').match(/.{1,64}/g) ?? []).join('\n') + '\n';

const optionNames: Record<number, string> = {
  1: 'subnet-mask', 3: 'router', 6: 'dns', 12: 'hostname', 28: 'broadcast', 43: 'vendor-specific', 50: 'requested-ip',
  51: 'lease-time', 53: 'message-type', 54: 'server-id', 55: 'parameter-request-list', 57: 'max-message-size',
  58: 'renewal-t1', 59: 'rebinding-t2', 60: 'vendor-class', 61: 'client-id', 66: 'tftp-server', 67: 'bootfile',
  77: 'user-class', 93: 'client-arch', 94: 'client-ndi', 97: 'client-uuid', 175: 'ipxe-encap',
};

// iPXE's include/ipxe/features.h and dhcp.h: 175.<code> feature flags and identifiers.
const ipxeEncapNames: Record<number, string> = {
  0x10: 'pxe-ext', 0x11: 'iscsi', 0x12: 'aoe', 0x13: 'http', 0x14: 'https', 0x15: 'tftp', 0x16: 'ftp', 0x17: 'dns',
  0x18: 'bzimage', 0x19: 'multiboot', 0x1a: 'slam', 0x1b: 'srp', 0x20: 'nbi', 0x21: 'pxe', 0x22: 'elf', 0x23: 'comboot',
  0x24: 'efi', 0x25: 'fcoe', 0x26: 'vlan', 0x27: 'menu', 0x28: 'sdi', 0x29: 'nfs', 0xb0: 'no-pxedhcp', 0xb1: 'bus-id',
  0xeb: 'version',
};

function tlvs(data: Buffer): { code: number; hex: string }[] | undefined {
  const out: { code: number; hex: string }[] = [];
  let off = 0;
  while (off < data.length) {
    const code = data[off]!;
    if (code === 255) break;
    if (code === 0) {
      off += 1;
      continue;
    }
    const len = data[off + 1];
    if (len === undefined || off + 2 + len > data.length) return undefined;
    out.push({ code, hex: data.subarray(off + 2, off + 2 + len).toString('hex') });
    off += 2 + len;
  }
  return out;
}

const printable = (b: Buffer) => /^[\x20-\x7e]*$/.test(b.toString('latin1'));

function describeOption(code: number, data: Buffer): Record<string, unknown> {
  const base: Record<string, unknown> = { code, name: optionNames[code] ?? `option-${code}`, length: data.length, hex: data.toString('hex') };
  if (printable(data) && data.length > 0 && [60, 66, 67, 12].includes(code)) base.text = data.toString('latin1');
  if (code === 53) base.value = data[0];
  if (code === 57 && data.length === 2) base.value = data.readUInt16BE(0);
  if ((code === 51 || code === 58 || code === 59) && data.length === 4) base.value = data.readUInt32BE(0);
  if ([1, 3, 28, 50, 54].includes(code) && data.length === 4) base.value = [...data].join('.');
  if (code === 55) base.value = [...data];
  if (code === 93) base.value = Array.from({ length: data.length >> 1 }, (_, i) => data.readUInt16BE(i * 2));
  if (code === 77) {
    // RFC 3004 wants length-prefixed class strings; iPXE sends the bare text.
    const rfc3004 = data.length > 0 && data[0]! + 1 <= data.length && printable(data.subarray(1, 1 + data[0]!)) && data[0]! > 0 && !printable(data.subarray(0, 1));
    base.form = rfc3004 ? 'rfc3004-length-prefixed' : 'raw-text';
    base.text = rfc3004 ? data.subarray(1).toString('latin1') : data.toString('latin1');
  }
  if (code === 97 && data.length === 17) {
    const u = data.subarray(1).toString('hex');
    base.uuidAsSent = `${u.slice(0, 8)}-${u.slice(8, 12)}-${u.slice(12, 16)}-${u.slice(16, 20)}-${u.slice(20)}`;
    // Firmware copies the SMBIOS bytes, whose first three fields are little-endian: swapped back, this is
    // the UUID QEMU was given with -uuid (and what dmidecode shows).
    const swap = (hex: string) => hex.match(/../g)!.reverse().join('');
    base.uuidSmbiosOrder = `${swap(u.slice(0, 8))}-${swap(u.slice(8, 12))}-${swap(u.slice(12, 16))}-${u.slice(16, 20)}-${u.slice(20)}`;
  }
  if (code === 43) base.suboptions = tlvs(data);
  if (code === 175) base.suboptions = tlvs(data)?.map((sub) => ({ ...sub, name: ipxeEncapNames[sub.code] ?? `feature-0x${sub.code.toString(16)}` }));
  return base;
}

function manifestEntry(f: Fixture, r: RunResult, versions: Record<string, string>): Record<string, unknown> {
  const d = f.packet.dhcp;
  return {
    file: `${f.name}.hex`,
    scenario: r.scenario.name,
    stage: f.stage,
    firmware: f.direction === 'client-to-server' ? r.scenario.stageSoftware[f.stage] : `dnsmasq ${versions['dnsmasq-base'] ?? ''} answering ${r.scenario.stageSoftware[f.stage] ?? f.stage}`,
    direction: f.direction,
    messageType: d.messageType,
    xid: `0x${d.xid.toString(16).padStart(8, '0')}`,
    length: f.packet.payload.length,
    udp: { src: `${f.packet.srcIp}:${f.packet.srcPort}`, dst: `${f.packet.dstIp}:${f.packet.dstPort}` },
    ethernet: { src: f.packet.srcMac, dst: f.packet.dstMac },
    header: {
      op: d.op,
      secs: d.secs,
      broadcastFlag: d.broadcast,
      ciaddr: d.ciaddr,
      yiaddr: d.yiaddr,
      siaddr: d.siaddr,
      chaddr: d.chaddr,
      sname: d.sname,
      file: d.file,
    },
    optionOrder: d.options.map((o) => o.code),
    options: d.options.map((o) => describeOption(o.code, o.data)),
    vm: { mac: r.scenario.mac, uuid: r.scenario.uuid, accel: r.vm.accel },
    howCaptured: r.scenario.howCaptured,
  };
}

async function packageVersions(): Promise<Record<string, string>> {
  const names = ['qemu-system-x86', 'ipxe-qemu', 'ipxe', 'ovmf', 'seabios', 'dnsmasq-base', 'tcpdump'];
  const { stdout } = await run('dpkg-query', ['-W', '-f', '${Package} ${Version}\n', ...names]).catch(() => ({ stdout: '' }));
  return Object.fromEntries(stdout.split('\n').filter(Boolean).map((line) => line.split(' ') as [string, string]));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      write: { type: 'boolean', default: false },
      only: { type: 'string' },
      keep: { type: 'boolean', default: false },
      out: { type: 'string', default: join(repoRoot, 'test', 'fixtures', 'dhcp4') },
      'boot-timeout': { type: 'string', default: '90' },
      // tcpdump filter; widen it (e.g. 'udp or tcp or arp') to study a boot, the fixtures only need UDP.
      filter: { type: 'string', default: 'udp' },
    },
  });
  const only = values.only?.split(',');
  const selected = scenarios.filter((s) => !only || only.includes(s.name));
  if (selected.length === 0) throw new Error(`no scenario named ${values.only}; have ${scenarios.map((s) => s.name).join(', ')}`);
  const artifacts = await ensureLabArtifacts();
  const versions = await packageVersions();
  console.log(`kernel ${artifacts.kernelPackage}; packages ${JSON.stringify(versions)}`);
  const results: { result: RunResult; fixtures: Fixture[] }[] = [];
  for (const scenario of selected) {
    const lab = await createLab({ keepDir: values.keep });
    try {
      const result = await runScenario(lab, scenario, (scenario.bootTimeoutS ?? Number(values['boot-timeout'])) * 1000, values.filter);
      const fixtures = pickFixtures(result);
      results.push({ result, fixtures });
      console.log(`\n== ${scenario.name} (${result.vm.accel})${values.keep ? ` lab dir ${lab.dir}` : ''}`);
      for (const p of result.packets) {
        const t = ((p.time - result.vm.startedAt) / 1000).toFixed(2).padStart(6);
        console.log(
          `${t}s ${`${p.srcIp}:${p.srcPort}`.padEnd(20)} -> ${`${p.dstIp}:${p.dstPort}`.padEnd(22)} ${(p.dhcp.messageType ?? '?').padEnd(8)} xid=${p.dhcp.xid.toString(16).padStart(8, '0')} bcast=${p.dhcp.broadcast ? 1 : 0} opts=${p.dhcp.options.map((o) => o.code).join(',')}${p.dhcp.file ? ` file=${p.dhcp.file}` : ''}`,
        );
      }
      console.log(`fixtures: ${fixtures.map((f) => f.name).join(' ')}`);
      console.log(`timing: ${JSON.stringify(result.timing)}`);
      for (const note of result.notes) console.log(`note: ${note}`);
    } finally {
      await lab.destroy();
    }
  }
  console.log('\nsummary (seconds from QEMU start):');
  for (const { result } of results) console.log(JSON.stringify(result.timing));
  if (!values.write) return;
  const out = values.out;
  mkdirSync(out, { recursive: true });
  const manifestPath = join(out, 'manifest.json');
  const previous = existsSync(manifestPath)
    ? (JSON.parse(readFileSync(manifestPath, 'utf8')) as { fixtures: { scenario: string; file: string }[] }).fixtures
    : [];
  const rerun = new Set(selected.map((s) => s.name));
  for (const old of previous.filter((e) => rerun.has(e.scenario))) rmSync(join(out, old.file), { force: true });
  const entries: Record<string, unknown>[] = previous.filter((e) => !rerun.has(e.scenario));
  for (const { result, fixtures } of results) {
    for (const f of fixtures) {
      if (entries.some((e) => e.file === `${f.name}.hex`)) throw new Error(`two fixtures named ${f.name}`);
      writeFileSync(join(out, `${f.name}.hex`), toHex(f.packet.payload));
      entries.push(manifestEntry(f, result, versions));
    }
  }
  const order = scenarios.map((s) => s.name);
  entries.sort((a, b) => order.indexOf(String(a.scenario)) - order.indexOf(String(b.scenario)));
  const manifest = {
    description: 'DHCPv4 UDP payloads captured from real firmware in the pxedeck VM lab; see README.md',
    capturedAt: new Date().toISOString().slice(0, 10),
    capturedWith: 'npx tsx test/e2e/lab/capture-dhcp.ts --write',
    packages: versions,
    kernel: artifacts.kernelPackage,
    fixtures: entries,
  };
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  const orphans = readdirSync(out).filter((f) => f.endsWith('.hex') && !entries.some((e) => e.file === f));
  if (orphans.length > 0) console.log(`hex files not in the manifest: ${orphans.join(' ')}`);
  console.log(`wrote ${entries.length} fixtures to ${out}`);
}

await main();
