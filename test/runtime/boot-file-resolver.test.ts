/**
 * Every file the boot-file resolver names goes through the one confinement path: the real TFTP and HTTP
 * servers, wired as start-runtime wires them, asked over loopback for a boot directory holding a link to
 * /etc/passwd (a netboot tarball's), a link that stays inside, and quick mode's kernel swapped for a link.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBootFileResolver, type BootFileResolver } from '../../src/runtime/boot-file-resolver.js';
import { presetsDir } from '../../src/runtime/runtime-settings.js';
import type { PxedeckEvent } from '../../src/servers/events.js';
import { createHttpServer, type HttpServer } from '../../src/servers/http/server.js';
import { createTftpServer, type TftpServer } from '../../src/servers/tftp/server.js';
import { openAssignments } from '../../src/state/assignments.js';
import { createBootPlanner, type BootPlanner } from '../../src/state/boot-plans.js';
import { openClientPolicies } from '../../src/state/client-policies.js';
import { loadProfileLibrary } from '../../src/state/profile-library.js';
import { RawClient, receiveFile } from '../servers/tftp/raw-client.js';

const PASSWD = readFileSync('/etc/passwd', 'utf8');
let base: string;
let bootDir: string;
let kernelDir: string;
let resolver: BootFileResolver;
let planner: BootPlanner;
let tftp: TftpServer;
let http: HttpServer;
let httpBase: string;
const warnings: string[] = [];
const events: PxedeckEvent[] = [];

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'pxd-resolver-'));
  bootDir = join(base, 'boot');
  kernelDir = join(base, 'kernels');
  mkdirSync(join(bootDir, 'sub'), { recursive: true });
  mkdirSync(kernelDir);
  writeFileSync(join(bootDir, 'plain.bin'), 'plain');
  writeFileSync(join(bootDir, 'sub', 'inner.bin'), 'inner');
  symlinkSync('sub/inner.bin', join(bootDir, 'inside-link'));
  symlinkSync(join(bootDir, 'plain.bin'), join(bootDir, 'absolute-inside-link'));
  symlinkSync('/etc/passwd', join(bootDir, 'passwd-link'));
  writeFileSync(join(kernelDir, 'vmlinuz'), 'quick-mode kernel');
  const dataDir = join(base, 'data');
  planner = createBootPlanner({
    serverBase: 'http://127.0.0.1',
    library: () => loadProfileLibrary(presetsDir, [dataDir]),
    assignments: openAssignments(dataDir),
    policies: openClientPolicies(dataDir),
    defaultTarget: { kind: 'inline', kernel: join(kernelDir, 'vmlinuz'), initrds: [], cmdline: '' },
  });
  resolver = createBootFileResolver({ bootDir, presetsDir, planner, warn: (message) => warnings.push(message) });
  const emit = (event: PxedeckEvent) => events.push(event);
  tftp = await createTftpServer({ bind: { address: '127.0.0.1', port: 0 }, root: [bootDir], emit, threads: 0, resolveVirtual: resolver.resolveTftp });
  http = await createHttpServer({
    bind: { address: '127.0.0.1', port: 0 },
    emit,
    renderIpxeScript: async () => ({ script: '#!ipxe\n' }),
    roots: resolver.httpRoots,
    namedFiles: resolver.namedFiles,
  });
  httpBase = `http://127.0.0.1:${http.port}`;
});

afterAll(async () => {
  await tftp?.close();
  await http?.close();
  rmSync(base, { recursive: true, force: true });
});

async function overTftp(name: string): Promise<string> {
  const client = await RawClient.open();
  try {
    return (await receiveFile(client, tftp.addresses[0]!, name, { deadlineMs: 5000 })).bytes.toString();
  } catch (error) {
    return (error as Error).message;
  } finally {
    await client.close();
  }
}

async function overHttp(path: string): Promise<string> {
  const response = await fetch(`${httpBase}${path}`);
  return `${response.status} ${await response.text()}`;
}

describe('the boot directory, served by name (TFTP, HTTP root) and under /files', () => {
  it('never serves a top-level link that leads out of it, and names it for the operator', async () => {
    expect(warnings.join('\n')).toContain(`passwd-link -> /etc/passwd`);
    expect(resolver.namedFiles().has('passwd-link')).toBe(false);
    for (const answer of [await overTftp('passwd-link'), await overHttp('/passwd-link'), await overHttp('/files/passwd-link')]) {
      expect(answer).not.toContain(PASSWD.slice(0, 20));
    }
    expect(await overTftp('passwd-link')).toMatch(/server error 2: resolves outside the root/);
    expect(await overHttp('/passwd-link')).toMatch(/^404 /);
  });

  it('serves links that stay inside it, relative or absolute', async () => {
    expect(await overTftp('inside-link')).toBe('inner');
    expect(await overHttp('/inside-link')).toBe('200 inner');
    expect(await overHttp('/files/inside-link')).toBe('200 inner');
    expect(await overTftp('absolute-inside-link')).toBe('plain');
    expect(await overHttp('/absolute-inside-link')).toBe('200 plain');
  });

  it('refuses a file swapped for an escaping link after the scan', async () => {
    writeFileSync(join(bootDir, 'swapped.bin'), 'before');
    const fresh = createBootFileResolver({ bootDir, presetsDir, planner, warn: () => undefined });
    expect(fresh.namedFiles().get('swapped.bin')).toEqual({ root: bootDir, path: 'swapped.bin' });
    unlinkSync(join(bootDir, 'swapped.bin'));
    symlinkSync('/etc/passwd', join(bootDir, 'swapped.bin'));
    const server = await createHttpServer({ bind: { address: '127.0.0.1', port: 0 }, emit: () => undefined, renderIpxeScript: async () => ({ script: '' }), roots: [], namedFiles: fresh.namedFiles });
    try {
      const response = await fetch(`http://127.0.0.1:${server.port}/swapped.bin`);
      expect(response.status).toBe(403);
      expect(await response.text()).not.toContain(PASSWD.slice(0, 20));
    } finally {
      await server.close();
      unlinkSync(join(bootDir, 'swapped.bin'));
    }
  });
});

describe("quick mode's kernel (a local file the operator named)", () => {
  it('is served by its local- name, confined to its own directory: a link swapped in is refused', async () => {
    const [name] = [...resolver.namedFiles().keys()].filter((key) => key.startsWith('local-'));
    expect(name).toMatch(/^local-[0-9a-f]{8}-vmlinuz$/);
    expect(await overHttp(`/${name}`)).toBe('200 quick-mode kernel');
    expect(await overTftp(name!)).toBe('quick-mode kernel');
    unlinkSync(join(kernelDir, 'vmlinuz'));
    symlinkSync('/etc/passwd', join(kernelDir, 'vmlinuz'));
    expect(await overHttp(`/${name}`)).toMatch(/^403 /);
    expect(await overTftp(name!)).toMatch(/server error 2: resolves outside the root/);
  });
});

describe('the Secure Boot chain over TFTP (as start-runtime wires it)', () => {
  it('shim and GRUB under the names shim asks for, per-machine GRUB configs, the beacon, and benign answers to optional look-ups', async () => {
    const beacons: string[] = [];
    const own: PxedeckEvent[] = [];
    const chain = createBootFileResolver({ bootDir, presetsDir, planner, warn: () => undefined, onGrubBeacon: (mac, ip) => beacons.push(`${mac} ${ip}`) });
    const server = await createTftpServer({ bind: { address: '127.0.0.1', port: 0 }, root: [bootDir], emit: (event) => own.push(event), threads: 0, resolveVirtual: chain.resolveTftp, absolutePaths: 'root-relative' });
    const get = async (name: string) => {
      const client = await RawClient.open();
      try {
        return (await receiveFile(client, server.addresses[0]!, name, { deadlineMs: 5000 })).bytes;
      } catch (error) {
        return Buffer.from((error as Error).message);
      } finally {
        await client.close();
      }
    };
    try {
      if (chain.binaries().has('shimx64.efi')) {
        expect((await get('shimx64.efi')).equals(readFileSync('/usr/lib/shim/shimx64.efi.signed'))).toBe(true);
        expect((await get('grubx64.efi')).subarray(0, 2).toString()).toBe('MZ');
        expect(chain.signedChainOverHttp).toBe(false);
      }
      // Loopback has no DHCP lease behind it: GRUB is asked again by MAC, and that name is rendered.
      expect((await get('/grub/grub.cfg')).toString()).toBe('# pxedeck: which machine is this? asking again by MAC\nconfigfile /grub/grub.cfg-$net_default_mac\n');
      expect((await get('/grub/grub.cfg-52:54:00:aa:00:07')).toString()).toMatch(/^# pxedeck: direct kernel for 52:54:00:aa:00:07\n[^]*if linux \/local-[0-9a-f]{8}-vmlinuz; then break; fi/);
      expect((await get('/pxedeck/booted-52-54-00-aa-00-07')).toString()).toBe('# pxedeck: booted\n');
      expect(beacons).toEqual(['52:54:00:aa:00:07 127.0.0.1']);
      for (const name of ['revocations_sbat.efi', 'shim_certificate_0.efi', 'grub/x86_64-efi/command.lst']) expect((await get(name)).toString()).toMatch(/server error 1: file not found/);
      expect((await get('nothing-like-it.efi')).toString()).toMatch(/server error 1: file not found/);
      const notFound = own.filter((event) => event.kind === 'transfer.not-found') as Array<PxedeckEvent & { file: string; benign?: boolean }>;
      expect(notFound.map((event) => [event.file, event.benign === true])).toEqual([
        ['revocations_sbat.efi', true],
        ['shim_certificate_0.efi', true],
        ['grub/x86_64-efi/command.lst', true],
        ['nothing-like-it.efi', false],
      ]);
    } finally {
      await server.close();
    }
  });
});
