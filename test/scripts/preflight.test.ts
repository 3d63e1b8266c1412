// The install command's preflight (scripts/preflight.sh): ready on this machine's Node, and for a Node that is
// missing or too old, the exact way to get one on that distribution. Versions come in through its test seams.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const script = resolve(import.meta.dirname, '../../scripts/preflight.sh');
const work = mkdtempSync(join(tmpdir(), 'pxd-preflight-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let releases = 0;
const osRelease = (prettyName: string) => {
  const path = join(work, `os-release-${(releases += 1)}`);
  writeFileSync(path, `PRETTY_NAME="${prettyName}"\nID=x\n`);
  return path;
};

function preflight(env: Record<string, string> = {}) {
  const result = spawnSync('sh', [script], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

describe('scripts/preflight.sh', () => {
  it("passes on this machine's Node and npm", () => {
    const { code, out } = preflight();
    expect(code).toBe(0);
    expect(out).toMatch(new RegExp(`Node\\.js ${process.versions.node.replace(/\./g, '\\.')} and npm [\\d.]+: ready`));
  });

  it("Debian 12's Node 18: too old, and neither apt's nodejs (18) nor Debian's npm is offered; NodeSource or nvm", () => {
    const { code, err } = preflight({ PXEDECK_NODE_VERSION: '18.19.0', PXEDECK_APT_NODEJS_CANDIDATE: '18.19.0+dfsg-6~deb12u2', PXEDECK_OS_RELEASE: osRelease('Debian GNU/Linux 12 (bookworm)') });
    expect(code).toBe(1);
    expect(err).toContain('pxedeck needs Node.js 20.19 or newer; this node is 18.19.0');
    expect(err).toContain('Debian GNU/Linux 12 (bookworm) packages Node.js 18.19.0+dfsg-6~deb12u2, which is too old');
    expect(err).toContain('curl -fsSL https://deb.nodesource.com/setup_20.x | sudo -E bash -');
    expect(err).toContain('nvm install 20');
    expect(err).not.toContain('apt-get install -y nodejs npm');
  });

  it("Ubuntu 24.04 without node: its nodejs (18.19.1) is too old, so NodeSource or nvm", () => {
    const { code, err } = preflight({ PXEDECK_NODE_VERSION: 'none', PXEDECK_APT_NODEJS_CANDIDATE: '18.19.1+dfsg-6ubuntu5', PXEDECK_OS_RELEASE: osRelease('Ubuntu 24.04.1 LTS') });
    expect(code).toBe(1);
    expect(err).toContain('there is no node on this PATH');
    expect(err).toContain('Ubuntu 24.04.1 LTS packages Node.js 18.19.1+dfsg-6ubuntu5, which is too old');
    expect(err).toContain('deb.nodesource.com/setup_20.x');
  });

  it("Debian 13 without node: its own nodejs 20.19 is new enough, with Debian's npm", () => {
    const { code, err } = preflight({ PXEDECK_NODE_VERSION: 'none', PXEDECK_APT_NODEJS_CANDIDATE: '20.19.2+dfsg-1', PXEDECK_OS_RELEASE: osRelease('Debian GNU/Linux 13 (trixie)') });
    expect(code).toBe(1);
    expect(err).toContain('Debian GNU/Linux 13 (trixie) packages Node.js 20.19.2+dfsg-1, which is new enough');
    expect(err).toContain('sudo apt-get install -y nodejs npm');
    expect(err).not.toContain('nodesource');
  });

  it("NodeSource's nodejs offered by apt: no Debian npm beside it (they conflict)", () => {
    const { code, err } = preflight({ PXEDECK_NODE_VERSION: 'none', PXEDECK_APT_NODEJS_CANDIDATE: '20.20.2-1nodesource1', PXEDECK_OS_RELEASE: osRelease('Debian GNU/Linux 12 (bookworm)') });
    expect(code).toBe(1);
    expect(err).toContain('sudo apt-get install -y nodejs\n');
    expect(err).not.toContain('nodejs npm');
  });

  it('Node 20.18 is one minor short; a new enough Node without npm names the npm package', () => {
    expect(preflight({ PXEDECK_NODE_VERSION: '20.18.3', PXEDECK_APT_NODEJS_CANDIDATE: 'none' }).err).toContain('this node is 20.18.3');
    const noNpm = preflight({ PXEDECK_NODE_VERSION: '22.11.0', PXEDECK_NPM_VERSION: 'none' });
    expect(noNpm.code).toBe(1);
    expect(noNpm.err).toContain('sudo apt-get install -y npm');
  });
});
