// Reference services inside lab namespaces: tcpdump, dnsmasq (DHCP/TFTP) and busybox httpd. These are the
// known-good counterparts pxedeck is compared with; they only ever bind interfaces inside the lab.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureLabArtifacts, labKernelCmdline } from './artifacts.js';
import { sleep } from './exec.js';
import { labTempDir, type Lab, type LabHost, type LabProcess } from './network.js';
import { dhcpDatagrams, readPcapUdp, type DhcpDatagram, type UdpDatagram } from './pcap.js';

export type Capture = {
  readonly file: string;
  readonly process: LabProcess;
  udp(): UdpDatagram[];
  dhcp(): DhcpDatagram[];
  /** Polls the pcap until some DHCP packet satisfies the predicate. */
  waitForDhcp(predicate: (p: DhcpDatagram) => boolean, timeoutMs: number, what?: string): Promise<DhcpDatagram>;
  stop(): Promise<void>;
};

async function waitForText(getText: () => string, pattern: RegExp, proc: LabProcess, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(getText())) {
    if (proc.hasExited()) throw new Error(`${what} exited before it was ready:\n${getText().slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`${what} not ready within ${timeoutMs} ms:\n${getText().slice(-2000)}`);
    await sleep(50);
  }
}

/** tcpdump -w on one interface inside a namespace, packet-buffered so the file can be read while it runs. */
export async function startCapture(lab: Lab, opts: { ns: string; iface: string; file?: string; filter?: string }): Promise<Capture> {
  const file = opts.file ?? join(lab.dir, `${opts.iface}-${Date.now()}.pcap`);
  let output = '';
  // -Z root: tcpdump otherwise drops to its own user and cannot write into the lab's private temp dir.
  const proc = lab.spawn(opts.ns, 'tcpdump', ['-i', opts.iface, '-n', '-U', '-s', '0', '-Z', 'root', '-w', file, opts.filter ?? 'udp'], {
    onOutput: (text) => {
      output += text;
    },
  });
  await waitForText(() => output, /listening on/, proc, 10_000, `tcpdump on ${opts.iface}`);
  const udp = () => readPcapUdp(file);
  const dhcp = () => dhcpDatagrams(udp());
  return {
    file,
    process: proc,
    udp,
    dhcp,
    waitForDhcp: async (predicate, timeoutMs, what = 'DHCP packet') => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = dhcp().find(predicate);
        if (hit) return hit;
        if (Date.now() > deadline) throw new Error(`no ${what} captured on ${opts.iface} within ${timeoutMs} ms`);
        await sleep(100);
      }
    },
    // SIGINT makes tcpdump flush and close the file cleanly.
    stop: async () => {
      if (proc.hasExited()) return;
      process.kill(proc.pid, 'SIGINT');
      await Promise.race([proc.exited, sleep(3000)]);
      await proc.stop(1000);
    },
  };
}

export type Dnsmasq = {
  readonly process: LabProcess;
  readonly logFile: string;
  log(): string;
  waitForLog(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  stop(): Promise<void>;
};

/**
 * dnsmasq bound to one lab interface, DNS off, logging DHCP and TFTP to a file. `args` carries the
 * DHCP/TFTP configuration (dhcp-range, dhcp-boot, pxe-service, enable-tftp, ...).
 */
export async function startDnsmasq(lab: Lab, host: LabHost, args: readonly string[], name = 'dnsmasq'): Promise<Dnsmasq> {
  const logFile = join(lab.dir, `${name}.log`);
  let output = '';
  const proc = lab.spawn(
    host.ns,
    'dnsmasq',
    [
      '--no-daemon',
      '--conf-file=/dev/null',
      `--interface=${host.iface}`,
      '--bind-interfaces',
      '--port=0',
      '--log-facility=-',
      '--log-dhcp',
      '--pid-file=',
      `--dhcp-leasefile=${join(lab.dir, `${name}.leases`)}`,
      // Its files live in the lab's private temp dir, which the default unprivileged user cannot read.
      '--user=root',
      '--group=root',
      ...args,
    ],
    { logFile, onOutput: (text) => (output += text) },
  );
  await waitForText(() => output, /started, version/, proc, 10_000, name);
  const waitForLog = async (pattern: RegExp, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = output.match(pattern);
      if (match) return match;
      if (proc.hasExited()) throw new Error(`${name} exited:\n${output.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`${name}: no ${pattern} in log within ${timeoutMs} ms:\n${output.slice(-2000)}`);
      await sleep(100);
    }
  };
  return { process: proc, logFile, log: () => output, waitForLog, stop: () => proc.stop(2000) };
}

export type Httpd = { readonly process: LabProcess; readonly root: string; readonly url: string; stop(): Promise<void> };

/** busybox httpd serving a directory over plain HTTP (the 2019 iPXE builds have no HTTPS). */
export async function startHttpd(lab: Lab, host: LabHost, root: string, port = 8080): Promise<Httpd> {
  const proc = lab.spawn(host.ns, 'busybox', ['httpd', '-f', '-v', '-p', `${host.ip4}:${port}`, '-h', root], {
    logFile: join(lab.dir, `httpd-${port}.log`),
  });
  const url = `http://${host.ip4}:${port}`;
  // busybox httpd prints nothing when ready; poll the port from inside the namespace.
  const deadline = Date.now() + 5000;
  for (;;) {
    const ok = await lab
      .exec(host.ns, 'busybox', ['wget', '-q', '-O', '/dev/null', `${url}/`], { timeoutMs: 2000 })
      .then(() => true, (error: unknown) => !/Connection refused/i.test(String(error)));
    if (ok) break;
    if (proc.hasExited() || Date.now() > deadline) throw new Error(`busybox httpd did not come up on ${url}`);
    await sleep(50);
  }
  return { process: proc, root, url, stop: () => proc.stop(1000) };
}

export type BootTree = { dir: string; scriptName: string };

/**
 * A directory with the lab kernel, initrd and an iPXE script that boots them with `pxedeck.marker=<marker>`;
 * also the Debian boot binaries, so the same directory serves as a TFTP root.
 */
export async function makeBootTree(lab: Lab, opts: { httpBase: string; marker: string }): Promise<BootTree> {
  const artifacts = await ensureLabArtifacts();
  const dir = labTempDir(lab, 'boot');
  mkdirSync(dir, { recursive: true });
  copyFileSync(artifacts.kernel, join(dir, 'vmlinuz'));
  copyFileSync(artifacts.initrd, join(dir, 'initrd.gz'));
  for (const path of Object.values(artifacts.bootBinaries)) copyFileSync(path, join(dir, path.split('/').pop()!));
  const scriptName = 'boot.ipxe';
  writeFileSync(
    join(dir, scriptName),
    [
      '#!ipxe',
      `kernel ${opts.httpBase}/vmlinuz ${labKernelCmdline(opts.marker)}`,
      `initrd ${opts.httpBase}/initrd.gz`,
      'boot',
      '',
    ].join('\n'),
  );
  return { dir, scriptName };
}

/**
 * A site DHCP server at 10.77.0.2 that hands `undionly.kpxe` (and serves it over TFTP) to every machine,
 * iPXE included: the classic chainboot loop, for the loop-diagnosis test and its event recording.
 */
export async function startLoopingSiteServer(lab: Lab): Promise<Dnsmasq> {
  const { bootBinaries } = await ensureLabArtifacts();
  const tftpRoot = labTempDir(lab, 'foreign-tftp');
  mkdirSync(tftpRoot, { recursive: true });
  copyFileSync(bootBinaries.undionlyKpxe, join(tftpRoot, 'undionly.kpxe'));
  const site = await lab.addHost({ ip4: '10.77.0.2', label: 'foreign' });
  return startDnsmasq(
    lab,
    site,
    ['--dhcp-range=10.77.0.50,10.77.0.59,255.255.255.0,10m', '--no-ping', '--dhcp-boot=undionly.kpxe', '--enable-tftp', `--tftp-root=${tftpRoot}`],
    'foreign-dhcp',
  );
}
