// Files inside an ISO over TFTP (what GRUB on the Secure Boot chain reads): the real TFTP server sends the
// byte range of the image a file is, to curl, and nothing past it; a changed image is refused.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRuntimeIsos, type RuntimeIsos } from '../../../src/runtime/runtime-isos.js';
import type { PxedeckEvent } from '../../../src/servers/events.js';
import { createTftpServer, type TftpServer } from '../../../src/servers/tftp/server.js';
import { buildIso, xorrisoMissing, type BuiltIso } from '../../support/iso-builder.js';

const KERNEL = Buffer.from(Array.from({ length: 200_001 }, (_, index) => (index * 7) % 253));

describe.skipIf(xorrisoMissing() !== undefined)('ISO files over TFTP', () => {
  let dir: string;
  let built: BuiltIso;
  let isos: RuntimeIsos;
  let tftp: TftpServer;
  const events: PxedeckEvent[] = [];
  const get = async (path: string) => {
    try {
      const { stdout } = await promisify(execFile)('curl', ['-sS', '--max-time', '20', `tftp://127.0.0.1:${tftp.addresses[0]!.port}/${path}`], { encoding: 'buffer', maxBuffer: 1 << 24 });
      return { ok: true, body: stdout };
    } catch (error) {
      return { ok: false, body: Buffer.from(String((error as { stderr?: Buffer }).stderr ?? '')) };
    }
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pxedeck-iso-tftp-'));
    mkdirSync(join(dir, 'boot'));
    built = buildIso({ '.disk/info': 'Debian GNU/Linux 12 "Bookworm" - Official Live amd64', 'live/vmlinuz-6.1.0-amd64': KERNEL, 'live/initrd.img-6.1.0-amd64': 'initrd\n', 'live/filesystem.squashfs': 'sq' });
    copyFileSync(built.path, join(dir, 'boot', 'debian-live-12.iso'));
    isos = await openRuntimeIsos({ cli: { headless: true, force: false, help: false }, dataDir: dir, bootDir: join(dir, 'boot'), base: { profiles: new Map(), menus: new Map(), problems: [] }, notice: () => undefined });
    tftp = await createTftpServer({ bind: { address: '127.0.0.1', port: 0 }, root: [join(dir, 'boot')], emit: (event) => events.push(event), threads: 0, resolveVirtual: (path) => isos.tftpFile(path) ?? null });
  });
  afterAll(async () => {
    await tftp?.close();
    await isos?.library.close();
    built?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends exactly the file: its range of the image, nothing past it', async () => {
    const kernel = await get('iso/debian-live-12/live/vmlinuz-6.1.0-amd64');
    expect(kernel.ok, kernel.body.toString() + JSON.stringify(events.slice(-3))).toBe(true);
    expect(kernel.body.equals(KERNEL)).toBe(true);
    expect((await get('iso/debian-live-12/live/initrd.img-6.1.0-amd64')).body.toString()).toBe('initrd\n');
    expect((await get('iso/debian-live-12/live/missing')).ok).toBe(false);
  });

  it('refuses a file of an image changed on disk since it was read', async () => {
    utimesSync(join(dir, 'boot', 'debian-live-12.iso'), new Date(), new Date(Date.now() + 10_000));
    expect((await get('iso/debian-live-12/live/initrd.img-6.1.0-amd64')).ok).toBe(false);
    expect(events.some((event) => event.kind === 'transfer.refused' && /changed on disk/.test(String((event as { error?: string }).error)))).toBe(true);
  });
});
