import { describe, expect, it } from 'vitest';
import type { Mac } from '../../src/protocol/mac.js';
import type { PxedeckEvent } from '../../src/servers/events.js';
import { ClientRegistry } from '../../src/state/registry.js';

const mac = '52:54:00:00:0d:01' as Mac;
let clock = 1_000_000;
const at = () => (clock += 500);

const discover = (xid: number, client: string, secs = 0): PxedeckEvent => ({
  kind: 'dhcp.received', time: at(), source: 'dhcp4', mac, xid, messageType: 'DISCOVER', peer: '0.0.0.0:68', summary: '', options: {}, client, secs,
});
const offer = (xid: number, bootFile?: string, vendor = 'PXEClient'): PxedeckEvent => ({
  kind: 'dhcp.sent', time: at(), source: 'dhcp4', mac, xid, messageType: 'OFFER', peer: '255.255.255.255:68', summary: '',
  options: { '60:vendor-class': vendor }, ...(bootFile && { bootFile }),
});
const download = (file: string, source: 'tftp' | 'http' = 'tftp'): PxedeckEvent => ({ kind: 'transfer.start', time: at(), source, mac, file, bytes: 0 });
const script = (): PxedeckEvent => ({ kind: 'http.request', time: at(), source: 'http', ip: '10.0.0.5', mac, method: 'GET', path: '/ipxe', status: 200, route: 'script' });
const SCRIPT_URL = 'http://10.0.0.1/boot.ipxe';

function run(events: PxedeckEvent[]) {
  const registry = new ClientRegistry();
  for (const event of events) registry.apply(event);
  return { registry, record: registry.get(mac)!, verdicts: registry.takeNewVerdicts().map((entry) => entry.verdict) };
}

describe('diagnosis', () => {
  it('a normal chain (firmware → undionly.kpxe → iPXE → script → kernel) raises nothing', () => {
    const { verdicts } = run([
      discover(1, 'BIOS PXE'), offer(1, 'undionly.kpxe'), download('undionly.kpxe'),
      discover(2, 'iPXE x86 BIOS'), offer(2, SCRIPT_URL), script(), download('/files/vmlinuz', 'http'),
      { kind: 'boot.beacon', time: at(), source: 'http', mac, ip: '10.0.0.5', beacon: 'booted' },
    ]);
    expect(verdicts).toEqual([]);
  });

  it('replacing an iPXE ROM once is not a loop', () => {
    const { verdicts } = run([discover(1, 'iPXE x86 BIOS'), offer(1, 'undionly.kpxe'), download('undionly.kpxe'), discover(2, 'iPXE x86 BIOS'), offer(2, SCRIPT_URL), script()]);
    expect(verdicts).toEqual([]);
  });

  it('flags a loop pxedeck made itself on the second turn, names its reply, and breaks it', () => {
    const { verdicts, registry } = run([
      discover(1, 'iPXE x86 BIOS'), offer(1, 'undionly.kpxe'), download('undionly.kpxe'),
      discover(2, 'iPXE x86 BIOS'), offer(2, 'undionly.kpxe'), download('undionly.kpxe'),
    ]);
    expect(verdicts).toEqual([
      expect.objectContaining({ kind: 'loop', severity: 'error', summary: expect.stringMatching(/iPXE was handed undionly\.kpxe again/), cause: expect.stringMatching(/pxedeck's OFFER \(xid 2, DHCP on 67\) handed undionly\.kpxe/) }),
    ]);
    expect(registry.history(mac).looping).toBe(true);
  });

  it('flags a loop another DHCP server causes, naming the server the machine chose', () => {
    const { verdicts, record } = run([
      discover(1, 'iPXE x86 BIOS'), offer(1, SCRIPT_URL),
      { kind: 'dhcp.ignored', time: at(), source: 'dhcp4', mac, xid: 1, reason: 'REQUEST is for another server (10.77.0.2)', otherServer: '10.77.0.2' },
      discover(2, 'iPXE x86 BIOS'),
    ]);
    expect(verdicts).toHaveLength(1);
    expect(verdicts[0]).toMatchObject({ kind: 'loop', cause: expect.stringMatching(/10\.77\.0\.2 answered it/), fix: expect.stringMatching(/make 10\.77\.0\.2 give iPXE/) });
    expect(record.verdicts).toHaveLength(1);
  });

  it('names the boot file another server was overheard handing the machine (its reply on UDP 68)', () => {
    const { verdicts } = run([
      discover(1, 'iPXE x86 BIOS'), offer(1, SCRIPT_URL),
      { kind: 'dhcp.foreign-reply', time: at(), source: 'dhcp4', mac, server: '10.77.0.2', messageType: 'OFFER', xid: 1, peer: '10.77.0.2:67', offered: '10.77.0.50', bootFile: 'undionly.kpxe' },
      { kind: 'dhcp.ignored', time: at(), source: 'dhcp4', mac, xid: 1, reason: 'REQUEST is for another server (10.77.0.2)', otherServer: '10.77.0.2' },
      discover(2, 'iPXE x86 BIOS'),
    ]);
    expect(verdicts[0]).toMatchObject({
      kind: 'loop',
      cause: 'the DHCP server 10.77.0.2 handed this machine undionly.kpxe (its reply was overheard on UDP 68), and the machine came back for another',
      fix: expect.stringMatching(/make 10\.77\.0\.2 give iPXE/),
    });
  });

  it('flags repeated DHCP → boot program cycles (3 in 60 s)', () => {
    const events: PxedeckEvent[] = [];
    for (let turn = 1; turn <= 3; turn += 1) {
      events.push(discover(turn * 10, 'BIOS PXE'), offer(turn * 10, 'pxelinux.0'), download('pxelinux.0'), { kind: 'transfer.done', time: at(), source: 'tftp', mac, file: 'pxelinux.0', bytes: 46000 });
    }
    const { verdicts } = run(events);
    expect(verdicts).toEqual([
      expect.objectContaining({ kind: 'loop', summary: 'boot loop: 3 downloads of pxelinux.0 within 60 s without reaching a kernel', cause: expect.stringMatching(/pxedeck's OFFER hands pxelinux\.0 each time/) }),
    ]);
  });

  it('a machine that boots fully twice in a minute (size probe included) is not a loop', async () => {
    const { readFileSync } = await import('node:fs');
    const lines = readFileSync(new URL('../fixtures/events/uefi-pxe-twice.jsonl', import.meta.url), 'utf8').trim().split('\n');
    const registry = new ClientRegistry();
    for (const line of lines) registry.apply(JSON.parse(line) as PxedeckEvent);
    expect(registry.takeNewVerdicts()).toEqual([]);
  });

  it('UEFI that never asks the boot server on 4011 after a steering proxy offer', () => {
    const { verdicts } = run([discover(7, 'PXE UEFI x64'), offer(7), discover(7, 'PXE UEFI x64'), discover(7, 'PXE UEFI x64')]);
    expect(verdicts).toEqual([expect.objectContaining({ kind: 'uefi-no-boot-server', fix: expect.stringMatching(/boot file in the proxy offer.*full DHCP/) })]);
  });

  it('a TFTP stall right after the OACK suggests a lower blksize; the tsize probe abort is benign', () => {
    const stall: PxedeckEvent = { kind: 'transfer.error', time: at(), source: 'tftp', mac, file: 'ipxe.efi', bytes: 0, options: { blksize: 1468 }, error: 'timed out' };
    const probe: PxedeckEvent = { ...stall, benign: true, error: 'client aborted (tsize probe)' };
    expect(run([probe]).verdicts).toEqual([]);
    expect(run([stall]).verdicts).toEqual([expect.objectContaining({ kind: 'tftp-stall', fix: expect.stringMatching(/blksizeCap 1024 or 512/) })]);
  });

  it('a first DISCOVER that has been trying for 30 s points at spanning tree', () => {
    expect(run([discover(9, 'BIOS PXE', 30)]).verdicts).toEqual([expect.objectContaining({ kind: 'spanning-tree', fix: expect.stringMatching(/portfast/) })]);
    expect(run([discover(9, 'BIOS PXE', 4)]).verdicts).toEqual([]);
  });
});

describe('Secure Boot refusing ipxe.efi', () => {
  const done = (file: string, source: 'tftp' | 'http' = 'tftp'): PxedeckEvent => ({ kind: 'transfer.done', time: at(), source, mac, file, bytes: 1_000_000, size: 1_000_000 });
  const solicit = (client: string): PxedeckEvent => ({
    kind: 'dhcp6.received', time: at(), source: 'dhcp6', mac, transactionId: 7, messageType: 'SOLICIT', peer: '[fe80::1]:546', summary: '', options: {}, client,
  });

  it.each<[string, () => PxedeckEvent]>([
    ['the firmware asks again for UEFI HTTP Boot', () => discover(2, 'HTTP boot x64 UEFI')],
    ['the firmware goes on to PXEv6', () => solicit('uefi-pxe')],
  ])('downloaded ipxe.efi, then %s without iPXE ever speaking: diagnosed, and the next decision sees it', (_name, next) => {
    const { verdicts, registry } = run([discover(1, 'PXE x64 UEFI'), offer(1, 'ipxe.efi'), download('ipxe.efi'), done('ipxe.efi'), next()]);
    expect(verdicts).toEqual([
      expect.objectContaining({ kind: 'secure-boot-refused', summary: 'Secure Boot refused ipxe.efi', cause: expect.stringMatching(/asked again .* s later without iPXE ever starting/), fix: expect.stringMatching(/signed chain/) }),
    ]);
    expect(registry.history(mac).secureBootRefused).toBe(true);
  });

  it('ipxe.efi that starts (iPXE asks DHCP) is not a refusal, even when the firmware comes back later', () => {
    const { verdicts } = run([
      discover(1, 'PXE x64 UEFI'), offer(1, 'ipxe.efi'), download('ipxe.efi'), done('ipxe.efi'),
      discover(2, 'iPXE x64 UEFI'), offer(2, SCRIPT_URL), script(),
      discover(3, 'PXE x64 UEFI'),
    ]);
    expect(verdicts).toEqual([]);
  });

  it('a firmware attempt long after the download is a new power-on, not a refusal', () => {
    const { verdicts } = run([discover(1, 'PXE x64 UEFI'), offer(1, 'ipxe.efi'), download('ipxe.efi'), done('ipxe.efi'), { ...discover(2, 'PXE x64 UEFI'), time: (clock += 600_000) }]);
    expect(verdicts).toEqual([]);
  });

  it('a BIOS undionly.kpxe download is not an EFI refusal', () => {
    const { verdicts } = run([discover(1, 'BIOS PXE'), offer(1, 'undionly.kpxe'), download('undionly.kpxe'), done('undionly.kpxe'), discover(2, 'BIOS PXE')]);
    expect(verdicts.filter((verdict) => verdict.kind === 'secure-boot-refused')).toEqual([]);
  });

  it('proxy mode: shim from pxedeck, but the site ACK names another next-server: GRUB will ask there (its config never comes)', () => {
    const siteAck: PxedeckEvent = { kind: 'dhcp.foreign-reply', time: at(), source: 'dhcp4', mac, server: '10.77.0.2', messageType: 'ACK', xid: 1, peer: '10.77.0.2:67', offered: '10.77.0.59', nextServer: '10.77.0.2' };
    const shimAck: PxedeckEvent = { kind: 'dhcp.sent', time: at(), source: 'pxe4011', mac, xid: 2, messageType: 'ACK', peer: '10.77.0.59:4011', summary: '', options: { '54:server-id': '10.77.0.1' }, bootFile: 'shimx64.efi' };
    const { verdicts } = run([discover(1, 'PXE x64 UEFI'), siteAck, shimAck, done('shimx64.efi'), done('grubx64.efi')]);
    expect(verdicts).toEqual([
      expect.objectContaining({ kind: 'grub-server-elsewhere', summary: 'GRUB will ask 10.77.0.2 for its config, not pxedeck', fix: expect.stringMatching(/name 10\.77\.0\.1 as next-server/) }),
    ]);
    const pointed = run([discover(1, 'PXE x64 UEFI'), { ...siteAck, nextServer: '10.77.0.1' } as PxedeckEvent, shimAck, done('shimx64.efi'), done('grubx64.efi')]);
    expect(pointed.verdicts).toEqual([]);
  });
});
