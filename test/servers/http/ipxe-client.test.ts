// The real client: Debian's iPXE (ipxe.lkrn under QEMU, TCG) fetches /boot.ipxe, chains to /ipxe with its
// identity, downloads a file and calls the booted beacon. QEMU's user-mode network is isolated
// (restrict=on): the guest's only way out is a guestfwd of 10.0.2.100:80 to our server on 127.0.0.1, so no
// packet reaches a real interface and no namespace or root is needed. ~20 s under TCG.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Mac } from '../../../src/protocol/mac.js';
import { DEFAULT_CONNECTION_LIMITS } from '../../../src/servers/http/connection-limits.js';
import type { ScriptRequest } from '../../../src/servers/http/server.js';
import { ofKind, startServer, tempDir, waitFor, type RunningServer } from './fixtures.js';

const IPXE_LKRN = '/usr/lib/ipxe/ipxe.lkrn';
const missing = !existsSync(IPXE_LKRN)
  ? `${IPXE_LKRN} is missing (Debian package ipxe)`
  : spawnSync('qemu-system-x86_64', ['--version']).status !== 0
    ? 'qemu-system-x86_64 is missing (Debian package qemu-system-x86)'
    : undefined;

const MAC = '52:54:00:a1:b2:c3' as Mac;
const UUID = '8c3f1e2a-5555-4000-8000-00000000c0de';
let qemu: ChildProcess | undefined;
let server: RunningServer | undefined;
let scratch: Awaited<ReturnType<typeof tempDir>> | undefined;

afterAll(async () => {
  if (qemu?.pid !== undefined && qemu.exitCode === null) qemu.kill('SIGKILL');
  await server?.close();
  await scratch?.remove();
});

describe.skipIf(missing !== undefined)(`a real iPXE client${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('chains from /boot.ipxe to its own script with its identity (retrying a failed chain), downloads a file keyed by MAC, and calls /booted', { timeout: 120_000 }, async () => {
    scratch = await tempDir('ipxe');
    const root = join(scratch.dir, 'root');
    await mkdir(root);
    const payload = Buffer.alloc(2 * 2 ** 20, 0x5a);
    await writeFile(join(root, 'payload.bin'), payload);

    const requests: ScriptRequest[] = [];
    const beacons: string[] = [];
    server = await startServer({
      roots: [{ prefix: '/files', dir: root }],
      // guestfwd's chardev connects to us when QEMU starts, and iPXE's requests arrive on that one stream once
      // it has booted under TCG (10-20 s later): the default 10 s header timeout would close it first. A real
      // machine connects when it asks.
      connectionLimits: { ...DEFAULT_CONNECTION_LIMITS, headersTimeoutMs: 120_000, requestTimeoutMs: 120_000 },
      renderIpxeScript: async (request) => {
        requests.push(request);
        // The first answer fails: /boot.ipxe must wait and chain again rather than stop.
        if (requests.length === 1) return { status: 503, message: 'not yet' };
        // Relative URLs resolve against this script's own URL, as the lead's rendered scripts may rely on.
        return { script: '#!ipxe\nimgfetch /files/payload.bin?mac=${netX/mac:hexhyp} && imgfetch /booted?mac=${netX/mac:hexhyp} ||\nsleep 300\n' };
      },
      onBeacon: (beacon, mac) => beacons.push(`${beacon} ${mac}`),
    });

    qemu = spawn(
      'qemu-system-x86_64',
      [
        '-M', 'pc', '-m', '256', '-display', 'none', '-serial', 'null', '-monitor', 'none', '-no-reboot',
        '-kernel', IPXE_LKRN,
        '-append', 'dhcp && chain http://10.0.2.100/boot.ipxe',
        '-netdev', `user,id=n0,ipv6=off,restrict=on,guestfwd=tcp:10.0.2.100:80-tcp:127.0.0.1:${server.server.port}`,
        '-device', `virtio-net-pci,netdev=n0,romfile=,mac=${MAC}`,
        '-uuid', UUID,
        '-smbios', 'type=1,manufacturer=Pxd Lab,product=Rack & Roll+1 100%,serial=SN/42',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    qemu.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));

    await waitFor(() => beacons.length > 0 || qemu!.exitCode !== null, 100_000).catch(() => undefined);
    expect(qemu.exitCode, `QEMU exited early: ${stderr}`).toBeNull();
    expect(beacons).toEqual([`booted ${MAC}`]);

    expect(requests).toHaveLength(2);
    expect(requests[1]).toMatchObject({
      mac: MAC,
      uuid: UUID,
      arch: 'i386',
      platform: 'pcbios',
      manufacturer: 'Pxd Lab',
      product: 'Rack & Roll+1 100%',
      serial: 'SN/42',
    });

    const events = server.events;
    const log = ofKind(events, 'http.request').map((event) => `${event.path} ${event.status}`);
    expect(log.slice(0, 4)).toEqual(['/boot.ipxe 200', '/ipxe 503', '/ipxe 200', '/files/payload.bin 200']);
    const [failed, retried] = ofKind(events, 'http.request').slice(1, 3);
    expect(retried!.time - failed!.time).toBeGreaterThanOrEqual(1900);
    expect(ofKind(events, 'http.request')[0]?.userAgent).toMatch(/^iPXE\//);
    expect(ofKind(events, 'transfer.done')).toEqual([expect.objectContaining({ mac: MAC, file: '/files/payload.bin', bytes: payload.length })]);
  });
});
