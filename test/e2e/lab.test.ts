// Smoke test of the VM lab itself: namespaces + bridge + tap, a real SeaBIOS/iPXE VM, dnsmasq as the
// known-good server, and a teardown that leaves nothing behind. ~5-10 s under TCG.
import { afterAll, describe, expect, it } from 'vitest';
import { missingLabFiles } from './lab/artifacts.js';
import { createLab, labUnavailableReason, leftovers, type Lab } from './lab/network.js';
import { startCapture, startDnsmasq } from './lab/services.js';
import { labMac, labUuid, startVm } from './lab/vm.js';

const missing = missingLabFiles();
const skipReason = labUnavailableReason() ?? (missing.length > 0 ? `missing ${missing.join(', ')}` : undefined);

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.skipIf(skipReason !== undefined)(`VM lab${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let lab: Lab | undefined;
  afterAll(async () => {
    await lab?.destroy();
  });

  it('boots a BIOS VM whose DISCOVER reaches dnsmasq in the server namespace, then tears down completely', async () => {
    lab = await createLab();
    const prefix = `pxd${lab.id}`;
    const tap = await lab.addTap();
    const capture = await startCapture(lab, { ns: lab.server.ns, iface: lab.server.iface, filter: 'udp port 67 or udp port 68' });
    const dnsmasq = await startDnsmasq(lab, lab.server, ['--dhcp-range=10.77.0.100,10.77.0.199,255.255.255.0,10m', '--no-ping']);
    const mac = labMac(1);
    const vm = await startVm({ lab, tap, firmware: 'bios-ipxe', mac, uuid: labUuid() });

    const discover = await capture.waitForDhcp((p) => p.dhcp.messageType === 'DISCOVER' && p.dhcp.chaddr === mac, 30_000, 'DISCOVER');
    const vendorClass = discover.dhcp.options.find((o) => o.code === 60)?.data.toString('latin1');
    expect(vendorClass).toBe('PXEClient:Arch:00000:UNDI:002001');
    await dnsmasq.waitForLog(new RegExp(`DHCPDISCOVER\\(${lab.server.iface}\\) ${mac}`), 10_000);
    // The lab really carries traffic both ways: dnsmasq's offer reaches the VM, which then requests it.
    await capture.waitForDhcp((p) => p.dhcp.messageType === 'REQUEST' && p.dhcp.chaddr === mac, 15_000, 'REQUEST');

    const pids = [vm.process.pid, dnsmasq.process.pid, capture.process.pid];
    expect(lab.names.namespaces).toHaveLength(2);
    expect((await leftovers(prefix)).namespaces).toHaveLength(2);
    await lab.destroy();
    expect(await leftovers(prefix)).toEqual({ namespaces: [], links: [] });
    expect(pids.filter(alive)).toEqual([]);
  }, 60_000);
});
