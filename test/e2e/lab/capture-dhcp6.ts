// Captures the DHCPv6 fixtures in test/fixtures/dhcp6 from real firmware booting on an IPv6-only segment
// of the VM lab (no DHCPv4 server anywhere; dnsmasq answers DHCPv6 and sends RAs with the M flag).
//
//   npx tsx test/e2e/lab/capture-dhcp6.ts            # run every scenario, print what was seen
//   npx tsx test/e2e/lab/capture-dhcp6.ts --write    # ... and (re)write the .hex files and manifest.json
//   npx tsx test/e2e/lab/capture-dhcp6.ts --only v6-bios-ipxe-rom
//
// Needs root and what the lab README lists. The decode here is deliberately tiny and independent of
// src/protocol/dhcp6, so codec tests can compare against it.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureLabArtifacts, repoRoot } from './artifacts.js';
import { run, sleep } from './exec.js';
import { createLab, labServer6, type Lab } from './network.js';
import { startCapture, startDnsmasq, makeBootTree } from './services.js';
import { startVm, type Firmware } from './vm.js';

type Scenario = {
  name: string;
  firmware: Firmware;
  stages: readonly string[];
  mac: string;
  uuid: string;
  extraArgs?: readonly string[];
};

// OVMF tries IPv4 PXE for about a minute before IPv6; this fw_cfg knob (OvmfPkg, 2020+) turns IPv4 PXE off.
const noIpv4Pxe = ['-fw_cfg', 'name=opt/org.tianocore/IPv4PXESupport,string=n'];

const scenarios: readonly Scenario[] = [
  { name: 'v6-bios-ipxe-rom', firmware: 'bios-ipxe', stages: ['bios-ipxe-rom'], mac: '52:54:00:77:06:01', uuid: '7de1c0de-0601-4a11-8b00-000000000601' },
  { name: 'v6-uefi-ipxe-rom', firmware: 'uefi-ipxe', stages: ['uefi-ipxe-rom'], mac: '52:54:00:77:06:02', uuid: '7de1c0de-0602-4a11-8b00-000000000602' },
  {
    name: 'v6-uefi-pxe-chain-ipxe-efi',
    firmware: 'uefi-pxe',
    // OVMF runs DHCPv6 twice: its IPv6 stack's own stateful autoconfiguration (the RA's M flag; asks for DNS
    // only) and then the PXE base code (vendor class, arch, NII; asks for 59/60); ipxe.efi is the third.
    stages: ['uefi-ovmf-ip6config', 'uefi-ovmf-pxe', 'uefi-ipxe-efi'],
    mac: '52:54:00:77:06:03',
    uuid: '7de1c0de-0603-4a11-8b00-000000000603',
    extraArgs: noIpv4Pxe,
  },
];

const httpPort = 8080;
const httpBase = `http://[${labServer6}]:${httpPort}`;

type Udp6 = { time: number; srcMac: string; srcIp: string; dstIp: string; srcPort: number; dstPort: number; payload: Buffer };

const macText = (b: Buffer) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
const ip6Text = (b: Buffer) => (b.toString('hex').match(/.{4}/g) ?? []).map((g) => g.replace(/^0+(?=.)/, '')).join(':').replace(/(^|:)0(:0)+(:|$)/, '::');

function readPcapUdp6(file: string): Udp6[] {
  const buf = readFileSync(file);
  if (buf.length < 24) return [];
  const out: Udp6[] = [];
  let off = 24;
  while (off + 16 <= buf.length) {
    const sec = buf.readUInt32LE(off);
    const usec = buf.readUInt32LE(off + 4);
    const incl = buf.readUInt32LE(off + 8);
    if (off + 16 + incl > buf.length) break;
    const frame = buf.subarray(off + 16, off + 16 + incl);
    off += 16 + incl;
    if (frame.length < 14 + 40 + 8 || frame.readUInt16BE(12) !== 0x86dd || frame[14 + 6] !== 17) continue;
    const udp = 14 + 40;
    const udpLen = frame.readUInt16BE(udp + 4);
    out.push({
      time: sec * 1000 + usec / 1000,
      srcMac: macText(frame.subarray(6, 12)),
      srcIp: ip6Text(frame.subarray(14 + 8, 14 + 24)),
      dstIp: ip6Text(frame.subarray(14 + 24, 14 + 40)),
      srcPort: frame.readUInt16BE(udp),
      dstPort: frame.readUInt16BE(udp + 2),
      payload: Buffer.from(frame.subarray(udp + 8, udp + udpLen)),
    });
  }
  return out;
}

const messageNames: Record<number, string> = {
  1: 'solicit', 2: 'advertise', 3: 'request', 4: 'confirm', 5: 'renew', 6: 'rebind', 7: 'reply', 8: 'release',
  9: 'decline', 10: 'reconfigure', 11: 'information-request', 12: 'relay-forw', 13: 'relay-repl',
};

function topOptions(payload: Buffer): { code: number; length: number; hex: string }[] {
  const out: { code: number; length: number; hex: string }[] = [];
  for (let off = 4; off + 4 <= payload.length; ) {
    const code = payload.readUInt16BE(off);
    const length = payload.readUInt16BE(off + 2);
    out.push({ code, length, hex: payload.subarray(off + 4, off + 4 + length).toString('hex') });
    off += 4 + length;
  }
  return out;
}

async function runScenario(lab: Lab, scenario: Scenario, write: boolean, outDir: string): Promise<Record<string, unknown>[]> {
  const tap = await lab.addTap();
  const tree = await makeBootTree(lab, { httpBase, marker: scenario.name });
  const capture = await startCapture(lab, { ns: tap.ns, iface: tap.name, filter: 'ip6 and udp and (port 546 or port 547)' });
  lab.spawn(lab.server.ns, 'busybox', ['httpd', '-f', '-p', `[${labServer6}]:${httpPort}`, '-h', tree.dir], { logFile: join(lab.dir, 'httpd6.log') });
  await startDnsmasq(lab, lab.server, [
    '--dhcp-range=fd77::100,fd77::1ff,64,10m',
    '--enable-ra',
    '--enable-tftp',
    `--tftp-root=${tree.dir}`,
    '--dhcp-userclass=set:ipxe,iPXE',
    `--dhcp-option=tag:ipxe,option6:bootfile-url,${httpBase}/boot.ipxe`,
    `--dhcp-option=tag:!ipxe,option6:bootfile-url,tftp://[${labServer6}]/ipxe.efi`,
    `--dhcp-option=option6:dns-server,[${labServer6}]`,
  ]);
  const vm = await startVm({ lab, tap, firmware: scenario.firmware, mac: scenario.mac, uuid: scenario.uuid, name: scenario.name, extraArgs: scenario.extraArgs });
  let marker: number | undefined;
  try {
    await vm.waitForBoot(150_000);
    marker = (Date.now() - vm.startedAt) / 1000;
  } catch (error) {
    console.log(`${scenario.name}: no boot marker: ${String(error).split('\n')[0]}`);
  }
  await vm.stop();
  await capture.stop();
  const packets = readPcapUdp6(capture.file);
  const fixtures: Record<string, unknown>[] = [];
  const stageOfXid = new Map<string, string>();
  let stageIndex = -1;
  const taken = new Set<string>();
  for (const p of packets) {
    if (p.payload.length < 4) continue;
    const type = messageNames[p.payload[0]!] ?? `type-${p.payload[0]}`;
    const xid = p.payload.subarray(1, 4).toString('hex');
    const client = p.dstPort === 547;
    let stage = stageOfXid.get(xid);
    if (stage === undefined) {
      if (!client) continue;
      // Every new Solicit (or Information-request) starts the next stage; Renew/Release stay in the current one.
      if (type === 'solicit' || type === 'information-request' || stageIndex < 0) stageIndex += 1;
      stage = scenario.stages[Math.max(stageIndex, 0)] ?? `stage${stageIndex}`;
      stageOfXid.set(xid, stage);
    }
    const name = `${scenario.name}.${stage}.${type}${client ? '' : '-from-dnsmasq'}`;
    console.log(`${((p.time - vm.startedAt) / 1000).toFixed(2)}s ${name} xid ${xid} ${p.srcIp} → ${p.dstIp} ${p.payload.length} B`);
    if (taken.has(name)) continue;
    taken.add(name);
    fixtures.push({
      file: `${name}.hex`,
      scenario: scenario.name,
      stage,
      direction: client ? 'client-to-server' : 'server-to-client',
      messageType: type,
      transactionId: xid,
      length: p.payload.length,
      timeS: Number(((p.time - vm.startedAt) / 1000).toFixed(2)),
      udp: { src: `[${p.srcIp}]:${p.srcPort}`, dst: `[${p.dstIp}]:${p.dstPort}` },
      ethernetSrc: p.srcMac,
      vmMac: scenario.mac,
      vmUuid: scenario.uuid,
      bootMarkerS: marker,
      options: topOptions(p.payload),
    });
    if (write) writeFileSync(join(outDir, `${name}.hex`), (p.payload.toString('hex').match(/.{1,64}/g) ?? []).join('\n') + '\n');
  }
  console.log(`${scenario.name}: ${packets.length} DHCPv6 datagrams, boot marker ${marker ?? 'not reached'} s`);
  return fixtures;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { write: { type: 'boolean' }, only: { type: 'string' } } });
  await ensureLabArtifacts();
  const outDir = join(repoRoot, 'test', 'fixtures', 'dhcp6');
  mkdirSync(outDir, { recursive: true });
  const chosen = scenarios.filter((s) => !values.only || s.name === values.only);
  if (values.write && !values.only) for (const f of readdirSync(outDir)) if (f.endsWith('.hex') && f.startsWith('v6-')) rmSync(join(outDir, f));
  const all: Record<string, unknown>[] = [];
  for (const scenario of chosen) {
    const lab = await createLab();
    try {
      all.push(...(await runScenario(lab, scenario, values.write === true, outDir)));
    } finally {
      await lab.destroy();
    }
    await sleep(100);
  }
  if (values.write) {
    const versions: Record<string, string> = {};
    for (const pkg of ['dnsmasq-base', 'ipxe', 'ipxe-qemu', 'ovmf', 'qemu-system-x86', 'seabios']) {
      versions[pkg] = (await run('dpkg-query', ['-W', '-f=${Version}', pkg]).catch(() => ({ stdout: '' }))).stdout.trim();
    }
    const manifestPath = join(outDir, 'manifest.json');
    let previous: Record<string, unknown>[] = [];
    try {
      previous = (JSON.parse(readFileSync(manifestPath, 'utf8')) as { fixtures: Record<string, unknown>[] }).fixtures;
    } catch {
      previous = [];
    }
    const kept = previous.filter((f) => !chosen.some((s) => f.scenario === s.name));
    writeFileSync(
      manifestPath,
      JSON.stringify(
        {
          description: 'DHCPv6 UDP payloads captured from real firmware on an IPv6-only segment of the pxedeck VM lab; see README.md',
          capturedWith: 'npx tsx test/e2e/lab/capture-dhcp6.ts --write',
          packages: versions,
          fixtures: [...kept, ...all],
        },
        null,
        2,
      ) + '\n',
    );
  }
}

await main();
