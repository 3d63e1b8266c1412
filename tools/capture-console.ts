/**
 * The README's picture: the real console (compiled CLI) in tmux, serving the VM lab's bench segment in full
 * DHCP mode while real VMs (SeaBIOS + iPXE, OVMF's own PXE, one held) network-boot the lab's Debian kernel.
 * Screens are captured with their colours every half second; the one showing the most different stages at
 * once is written as docs/console.svg.
 *
 * Run as root: npm run build && npx tsx tools/capture-console.ts [--columns 120 --rows 28 --out docs/console.svg]
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { ensureLabArtifacts, labKernelCmdline } from '../test/e2e/lab/artifacts.js';
import { createLab, labTempDir } from '../test/e2e/lab/network.js';
import { labUuid, startVm, type Firmware, type Vm } from '../test/e2e/lab/vm.js';
import { screenToSvg } from './ansi-svg.js';

const { values } = parseArgs({ options: { columns: { type: 'string', default: '120' }, rows: { type: 'string', default: '28' }, out: { type: 'string', default: 'docs/console.svg' }, seconds: { type: 'string', default: '60' } } });
const repo = resolve(import.meta.dirname, '..');
const columns = Number(values.columns);
const rows = Number(values.rows);

const machines: ReadonlyArray<{ firmware: Firmware; mac: string; profile: string; delayMs: number }> = [
  { firmware: 'bios-ipxe', mac: '52:54:00:3a:10:01', profile: 'debian-12-lab', delayMs: 0 },
  { firmware: 'uefi-pxe', mac: '52:54:00:3a:10:02', profile: 'debian-12-lab', delayMs: 1000 },
  { firmware: 'bios-ipxe', mac: '52:54:00:3a:10:03', profile: 'hold', delayMs: 2000 },
  { firmware: 'uefi-ipxe', mac: '52:54:00:3a:10:04', profile: 'debian-12-lab', delayMs: 9000 },
];

const artifacts = await ensureLabArtifacts();
const lab = await createLab();
const socket = `pxdshot${process.pid}`;
const tmux = (...args: string[]) => spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
const vms: Vm[] = [];
try {
  const dataDir = labTempDir(lab, 'data');
  const bootDir = labTempDir(lab, 'boot');
  mkdirSync(join(dataDir, 'profiles'), { recursive: true });
  copyFileSync(artifacts.kernel, join(bootDir, 'vmlinuz'));
  copyFileSync(artifacts.initrd, join(bootDir, 'initrd.gz'));
  writeFileSync(
    join(dataDir, 'profiles', 'debian-12-lab.yaml'),
    `title: Debian 12 cloud kernel (lab)\nkernel: vmlinuz\ninitrd: initrd.gz\ncmdline: ${labKernelCmdline('shot').replace(/^initrd=\S+ /, '')}\n`,
  );
  writeFileSync(join(dataDir, 'settings.json'), JSON.stringify({ controlPort: 0 }));
  const bin = join(repo, 'bin', 'pxedeck.js');
  for (const machine of machines) {
    const args = machine.profile === 'hold' ? ['--hold'] : [machine.profile];
    const result = spawnSync(process.execPath, [bin, 'assign', machine.mac, ...args, '--data-dir', dataDir], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`pxedeck assign: ${result.stderr}`);
  }
  const command = `ip netns exec ${lab.server.ns} env -u CI TERM=xterm-256color ${process.execPath} ${bin} --interface ${lab.server.iface} --mode dhcp --pool 10.77.0.100-10.77.0.199 --probe-ms 1500 --data-dir ${dataDir} --boot-dir ${bootDir}; sleep 600`;
  tmux('new-session', '-d', '-x', String(columns), '-y', String(rows), '-s', 'shot', command);
  const screen = () => tmux('capture-pane', '-e', '-p', '-t', 'shot').stdout;
  for (let i = 0; i < 100 && !/DHCP ●/.test(screen()); i += 1) await sleep(200);

  const started = Date.now();
  const pending = [...machines];
  let best = { score: -1, text: '' };
  while (Date.now() - started < Number(values.seconds) * 1000) {
    while (pending[0] && Date.now() - started >= pending[0].delayMs) {
      const machine = pending.shift()!;
      const tap = await lab.addTap();
      vms.push(await startVm({ lab, tap, firmware: machine.firmware, mac: machine.mac, uuid: labUuid() }));
    }
    const text = screen();
    const plain = text.replace(/\x1b\[[0-9;]*m/g, '');
    const machineRows = plain.split('\n').filter((line) => machines.some((machine) => line.includes(machine.mac)));
    // Most distinct stages and badges at once, a progress bar a bonus: the frame that shows the most.
    const words = new Set(machineRows.flatMap((line) => line.split(/\s{2,}/).slice(3)));
    const score = machineRows.length * 10 + words.size + (/[█░]/.test(plain) ? 5 : 0);
    if (score > best.score) best = { score, text };
    if (vms.length === machines.length && machineRows.filter((line) => /booted/.test(line)).length >= 3) break;
    await sleep(500);
  }
  const out = resolve(repo, values.out!);
  writeFileSync(out, screenToSvg(best.text, { columns, title: 'pxedeck console: four lab VMs network-booting' }));
  console.log(`wrote ${out} (score ${best.score})`);
} finally {
  tmux('kill-server');
  await Promise.all(vms.map((vm) => vm.stop()));
  await lab.destroy();
}
