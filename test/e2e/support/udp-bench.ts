/**
 * The segment of the UDP abuse tests (udp-port-zero, fuzz-datagrams): a laptop namespace running the real CLI
 * (`--headless --mode dhcp`, DHCPv4 on 67 and 4011, DHCPv6, RA, TFTP, HTTP, syslog) and a bench machine
 * namespace on a veth, both with IPv4 and IPv6; scapy in the machine namespace sends what no IP stack would;
 * then real clients on every protocol must still be served.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { NetnsLab, netnsUnavailableReason, type PxedeckProcess } from '../../support/netns.js';
import { dhcp6BenchMachine } from './ipxe-solicit.js';

/** Debian's python3 (the one python3-scapy installs into), not whatever python3 comes first on PATH. */
export const SCAPY_PYTHON = '/usr/bin/python3';

export const SERVER4 = '10.77.0.1';
export const SERVER6 = 'fd77::1';
export const MACHINE4 = '10.77.0.50';
export const MACHINE6 = 'fd77::50';
const HELLO = 'hello over tftp and http\n';

export function udpBenchSkipReason(): string | undefined {
  return (
    netnsUnavailableReason(['udhcpc', 'curl', 'logger']) ??
    (existsSync('/usr/lib/python3/dist-packages/scapy') ? undefined : 'needs python3-scapy (Debian package)')
  );
}

export interface UdpBench {
  readonly lab: NetnsLab;
  readonly ns: { readonly laptop: string; readonly machine: string };
  readonly pxedeck: PxedeckProcess;
}

/**
 * The segment is a /16 and the pool 1,024 addresses: DISCOVERs from made-up MACs (a fuzzer's) hold offers,
 * and the real client afterwards must still find a free address.
 */
export async function startUdpBench(tag: string): Promise<UdpBench> {
  const lab = new NetnsLab(tag);
  try {
    const ns = { laptop: lab.namespace('laptop'), machine: lab.namespace('machine') };
    lab.veth({ ns: ns.laptop, name: 'bench0', address: `${SERVER4}/16` }, { ns: ns.machine, name: 'eth0', address: `${MACHINE4}/16`, mac: '02:77:00:00:00:50' });
    lab.ip(ns.laptop, '-6', 'addr', 'add', `${SERVER6}/64`, 'dev', 'bench0', 'nodad');
    lab.ip(ns.machine, '-6', 'addr', 'add', `${MACHINE6}/64`, 'dev', 'eth0', 'nodad');
    const bootDir = join(lab.dir, 'boot');
    mkdirSync(bootDir);
    writeFileSync(join(bootDir, 'hello.txt'), HELLO);
    await lab.linkLocalReady(ns.laptop, 'bench0');
    const pxedeck = lab.pxedeck(ns.laptop, [
      '--interface', 'bench0',
      '--mode', 'dhcp',
      '--pool', '10.77.1.0-10.77.4.255',
      '--pool6', 'fd77::100-fd77::fff',
      '--boot-dir', bootDir,
      '--data-dir', join(lab.dir, 'data'),
      '--probe-ms', '300',
    ]);
    await pxedeck.listening(20_000);
    for (const source of ['tftp', 'syslog', 'dhcp6', 'ra'] as const) {
      await pxedeck.waitForEvent((event) => event.kind === 'server.listening' && event.source === source, `${source} listening`);
    }
    return { lab, ns, pxedeck };
  } catch (error) {
    await lab.destroy();
    throw error;
  }
}

/** A real client on every protocol, one after the other: udhcpc, curl over TFTP and HTTP, iPXE's DHCPv6 Solicit, logger. */
export async function expectRealClientsServed({ lab, ns, pxedeck }: UdpBench, firstTransactionId: number): Promise<void> {
  const lease = await lab.exec(ns.machine, 'udhcpc', ['-f', '-q', '-n', '-i', 'eth0', '-s', '/bin/true', '-t', '5', '-T', '1'], { timeoutMs: 20_000 });
  expect(lease.stdout + lease.stderr).toMatch(/lease of 10\.77\.\d+\.\d+ obtained from 10\.77\.0\.1/);
  expect(await lab.curl(ns.machine, `tftp://${SERVER4}/hello.txt`)).toBe(HELLO);
  expect(await lab.curl(ns.machine, `http://${SERVER4}/files/hello.txt`)).toBe(HELLO);
  const { solicit } = await dhcp6BenchMachine(lab, ns, { firstTransactionId, timeoutMs: 3000 });
  expect(await solicit()).toMatch(/^http:\/\/\[fd77::1\]/);
  await lab.exec(ns.machine, 'logger', ['--udp', '-n', SERVER4, '-P', '514', '-t', 'after', 'still heard']);
  await pxedeck.waitForEvent((event) => event.kind === 'syslog.line' && event.message.includes('still heard'), 'syslog line after the datagrams');
  expect(pxedeck.hasExited).toBe(false);
}
