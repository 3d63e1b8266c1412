// GET /v1/clients over the real control API and a real registry: bounded pages, in MAC order, and the
// registry's evictions said in every page. POST …/assign: a kernel or initrd is a URL or a file of the boot
// directory, never any file of this machine.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Mac } from '../../src/protocol/mac.js';
import { controlHandlers } from '../../src/runtime/control-adapter.js';
import { CLIENT_PAGE_DEFAULT, createControlApi, type ControlApi } from '../../src/servers/http/control-api.js';
import { openAssignments, type AssignmentStore } from '../../src/state/assignments.js';
import { createBootPlanner, type BootPlanner } from '../../src/state/boot-plans.js';
import { openClientPolicies } from '../../src/state/client-policies.js';
import { loadProfileLibrary } from '../../src/state/profile-library.js';
import { ClientRegistry } from '../../src/state/registry.js';

const dir = mkdtempSync(join(tmpdir(), 'pxd-control-'));
const macOf = (n: number) => `52:54:00:00:${(n >>> 8).toString(16).padStart(2, '0')}:${(n & 0xff).toString(16).padStart(2, '0')}` as Mac;
const TOKEN = 'test-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };
let api: ControlApi;
let base: string;
let planner: BootPlanner;
let assignments: AssignmentStore;
const bootDir = join(dir, 'boot');

beforeAll(async () => {
  const library = loadProfileLibrary(resolve(import.meta.dirname, '../../presets'));
  assignments = openAssignments(dir);
  planner = createBootPlanner({ serverBase: 'http://127.0.0.1', library: () => library, assignments, policies: openClientPolicies(dir), defaultTarget: { kind: 'local' } });
  const registry = new ClientRegistry({ limits: { maxClients: 250 } });
  for (let n = 0; n < 400; n += 1) {
    registry.apply({ kind: 'dhcp.received', time: n, source: 'dhcp4', mac: macOf(n), xid: n, messageType: 'DISCOVER', peer: '0.0.0.0:68', summary: '', options: {}, client: 'BIOS PXE' });
  }
  api = await createControlApi({ port: 0, token: TOKEN, emit: () => {}, handlers: controlHandlers({ registry, assignments, planner, library: () => library, bootDir }) });
  mkdirSync(join(bootDir, 'debian'), { recursive: true });
  writeFileSync(join(bootDir, 'debian', 'linux'), 'kernel');
  // Links a netboot tarball (or anyone who can write the boot directory) may leave: out of it, and inside it.
  symlinkSync('/etc/shadow', join(bootDir, 'shadow-link'));
  symlinkSync('/etc', join(bootDir, 'etc-link'));
  symlinkSync('debian/linux', join(bootDir, 'linux-link'));
  base = `http://127.0.0.1:${api.port}`;
});

afterAll(async () => {
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Page {
  clients: Array<{ mac: string; timeline?: unknown; log?: unknown; target: unknown }>;
  total: number;
  next?: string;
  evicted: number;
  limits: { maxClients: number };
}

describe('GET /v1/clients', () => {
  it('pages through the machines in MAC order, each once, without their timelines, saying how many were forgotten', async () => {
    const first = (await (await fetch(`${base}/v1/clients`, { headers: auth })).json()) as Page;
    expect(first.clients).toHaveLength(CLIENT_PAGE_DEFAULT);
    expect(first).toMatchObject({ total: 250, evicted: 150, limits: { maxClients: 250 }, next: macOf(249) });
    expect(first.clients[0]).toMatchObject({ mac: macOf(150), target: { kind: 'local' } });
    expect(first.clients[0]).not.toHaveProperty('timeline');
    expect(first.clients[0]).not.toHaveProperty('log');
    const seen: string[] = [];
    let after: string | undefined;
    do {
      const page = (await (await fetch(`${base}/v1/clients?limit=64${after ? `&after=${after}` : ''}`, { headers: auth })).json()) as Page;
      seen.push(...page.clients.map((client) => client.mac));
      after = page.next;
    } while (after);
    expect(seen).toEqual(Array.from({ length: 250 }, (_, index) => macOf(150 + index)));
  });

  it('refuses a limit or cursor it cannot use, naming the fix', async () => {
    for (const query of ['limit=0', 'limit=1001', 'limit=ten', 'after=nope']) {
      const response = await fetch(`${base}/v1/clients?${query}`, { headers: auth });
      expect(response.status, query).toBe(400);
      expect(((await response.json()) as { error: string }).error).toMatch(/limit must be a number from 1 to 1000|after must be a MAC/);
    }
  });
});

describe('POST /v1/clients/MAC/assign with a kernel', () => {
  const mac = '52:54:00:aa:00:01' as Mac;
  const assign = async (body: unknown) => {
    const response = await fetch(`${base}/v1/clients/${mac}/assign`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as { error?: string } };
  };

  it('refuses a file outside the boot directory, naming the field and the fix, and publishes nothing', async () => {
    for (const [body, field] of [
      [{ kernel: '/etc/shadow' }, 'kernel'],
      [{ kernel: 'debian/linux', initrds: ['https://example.org/initrd', '/etc/passwd'] }, 'initrds\\[1\\]'],
      [{ kernel: '../../etc/shadow' }, 'kernel'],
      [{ kernel: `${bootDir}/../assignments.json` }, 'kernel'],
      [{ kernel: 'shadow-link' }, 'kernel'],
      [{ kernel: 'debian/linux', initrds: ['etc-link/passwd'] }, 'initrds\\[0\\]'],
      [{ kernel: `${bootDir}/shadow-link` }, 'kernel'],
      [{ kernel: 'file:///etc/shadow' }, 'kernel'],
      [{ kernel: 'debian/linux', initrds: ['tftp://10.0.0.1/initrd'] }, 'initrds\\[0\\]'],
    ] as const) {
      const answer = await assign(body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error).toMatch(new RegExp(`^"${field}": .*((outside|leads out of) the boot directory|is not an http\\(s\\) URL); fix: copy the file into the boot directory ${bootDir}`));
    }
    expect(assignments.get(mac)).toBeUndefined();
    expect([...planner.localFiles().keys()].filter((name) => /shadow|passwd|assignments/.test(name))).toEqual([]);
  });

  it('takes a URL, a path in the boot directory, or an absolute path inside it (stored relative)', async () => {
    expect((await assign({ kernel: `${bootDir}/debian/linux`, initrds: ['https://example.org/initrd.gz', 'preseed/debian.cfg'] })).status).toBe(200);
    expect(assignments.get(mac)?.target).toEqual({ kind: 'inline', kernel: 'debian/linux', initrds: ['https://example.org/initrd.gz', 'preseed/debian.cfg'], cmdline: '' });
    // A link that stays inside the boot directory is a file of it (netboot tarballs have such links).
    expect((await assign({ kernel: 'linux-link' })).status).toBe(200);
    expect((await assign({ kernel: `${bootDir}/debian/linux`, initrds: ['https://example.org/initrd.gz', 'preseed/debian.cfg'] })).status).toBe(200);
    const script = planner.renderIpxe({ mac });
    expect(script.ok && script.text).toContain('http://127.0.0.1/files/debian/linux');
  });

  it('a variable that makes a profile\'s kernel or initrd (installer_images) follows the same rule', async () => {
    const refused = await assign({ profile: 'debian-installer', variables: { installer_images: '/etc', hostname: 'n1' } });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatch(/^"variables\.installer_images": \/etc\/linux is outside the boot directory; fix: copy the file into the boot directory/);
    expect(assignments.get(mac)?.target).not.toEqual({ kind: 'profile', profile: 'debian-installer' });
    expect((await assign({ profile: 'debian-installer', variables: { installer_images: `${bootDir}/debian` } })).status).toBe(200);
    expect((await assign({ profile: 'debian-installer', variables: { installer_images: 'https://mirror.example.org/netboot/amd64' } })).status).toBe(200);
    // Variables the sources do not use are the profile's business as before.
    expect((await assign({ profile: 'debian-installer', variables: { preseed_url: 'http://10.0.0.1/p.cfg' } })).status).toBe(200);
  });
});
