// Nothing outside the roots is served, whatever the request path says; each refusal is an event.
import { execFileSync } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curl, ofKind, rawGet, rawRequest, startServer, tempDir, waitFor, type RunningServer } from './fixtures.js';

const SECRET = 'SECRET-OUTSIDE-THE-ROOT';
let server: RunningServer;
let scratch: Awaited<ReturnType<typeof tempDir>>;

beforeAll(async () => {
  scratch = await tempDir('contain');
  const root = join(scratch.dir, 'root');
  await mkdir(join(root, 'sub'), { recursive: true });
  await mkdir(join(scratch.dir, 'root-evil'));
  await writeFile(join(scratch.dir, 'secret.txt'), SECRET);
  await writeFile(join(scratch.dir, 'root-evil', 'secret.txt'), SECRET);
  await writeFile(join(root, 'ok.txt'), 'ok');
  await writeFile(join(root, 'sub', 'inner.txt'), 'inner');
  await symlink('../secret.txt', join(root, 'link-out'));
  await symlink('/etc/passwd', join(root, 'link-abs'));
  await symlink('..', join(root, 'dirlink'));
  // Same string prefix as the root: a naive startsWith check would let it through.
  await symlink('../root-evil/secret.txt', join(root, 'sibling'));
  await symlink('ok.txt', join(root, 'link-in'));
  await symlink('sub', join(root, 'sublink'));
  await symlink('loop-b', join(root, 'loop-a'));
  await symlink('loop-a', join(root, 'loop-b'));
  execFileSync('mkfifo', [join(root, 'fifo')]);
  server = await startServer({ roots: [{ prefix: '/files', dir: root }] });
});

afterAll(async () => {
  await server?.close();
  await scratch?.remove();
});

// [request target as sent on the wire, expected status]
const hostile: ReadonlyArray<readonly [string, number]> = [
  ['/files/../secret.txt', 400],
  ['/files/%2e%2e/secret.txt', 400],
  ['/files/%2E%2E/secret.txt', 400],
  ['/files/.%2e/secret.txt', 400],
  ['/files/%252e%252e/secret.txt', 400],
  ['/files/..%2fsecret.txt', 400],
  ['/files/..%2Fsecret.txt', 400],
  ['/files/%2e%2e%2fsecret.txt', 400],
  ['/files/..%252fsecret.txt', 400],
  ['/files/..%5csecret.txt', 400],
  ['/files/%5c..%5csecret.txt', 400],
  ['/files/%2e%2e%5c%2e%2e%5csecret.txt', 400],
  ['/files/..%255csecret.txt', 400],
  ['/files/ok.txt%00.png', 400],
  ['/files/%00', 400],
  ['/files/sub/../../secret.txt', 400],
  ['/files/./../secret.txt', 400],
  ['/files/ok.txt/..', 400],
  ['/files//etc/passwd', 400],
  ['//files/../secret.txt', 400],
  ['/files/%2fetc%2fpasswd', 400],
  ['/files/%c0%ae%c0%ae/secret.txt', 400],
  ['/files/..%c0%afsecret.txt', 400],
  ['/files/%u002e%u002e/secret.txt', 400],
  ['/files/....//secret.txt', 400],
  ['/%2e%2e/%2e%2e/etc/passwd', 400],
  ['/upstream/../files/ok.txt', 400],
  ['/files/link-out', 403],
  ['/files/link-abs', 403],
  ['/files/dirlink/secret.txt', 403],
  ['/files/dirlink/root-evil/secret.txt', 403],
  ['/files/sibling', 403],
  ['/files/loop-a', 403],
  ['/files/fifo', 403],
  ['/files/sub', 404],
  ['/files', 404],
  ['/secret.txt', 404],
  ['/files/secret.txt', 404],
];

describe('path containment', () => {
  it('has a table of at least 20 hostile paths', () => {
    expect(hostile.length).toBeGreaterThanOrEqual(20);
  });

  for (const [target, status] of hostile) {
    it(`refuses ${target} with ${status} and an event`, async () => {
      const before = ofKind(server.events, 'http.request').length;
      const response = await rawGet(server.server.port, target);
      expect(response.status).toBe(status);
      expect(response.body.toString()).not.toContain(SECRET);
      expect(response.body.toString()).not.toContain('root:');
      await waitFor(() => ofKind(server.events, 'http.request').length > before);
      const event = ofKind(server.events, 'http.request').at(-1)!;
      expect(event.status).toBe(status);
      expect(event.reason).toBeTruthy();
    });
  }

  it('refuses raw backslashes and NUL bytes on the wire (parser or path check), without crashing', async () => {
    for (const target of ['/files/..\\secret.txt', '/files/ok.txt\u0000']) {
      const response = await rawRequest(server.server.port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(response.status).toBe(400);
      expect(response.body.toString()).not.toContain(SECRET);
    }
    expect(ofKind(server.events, 'http.request').at(-1)?.status).toBe(400);
  });

  it('refuses absolute-form targets: this is not a proxy', async () => {
    const response = await rawGet(server.server.port, 'http://127.0.0.1/../secret.txt');
    expect(response.status).toBe(400);
  });

  it('serves what is inside, through inside symlinks too, and still runs after all of the above', async () => {
    for (const [target, body] of [
      ['/files/ok.txt', 'ok'],
      ['/files/link-in', 'ok'],
      ['/files/sublink/inner.txt', 'inner'],
      ['/files/sub/inner.txt', 'inner'],
      ['/files/ok%2etxt', 'ok'],
    ] as const) {
      const response = await rawGet(server.server.port, target);
      expect(response.status, target).toBe(200);
      expect(response.body.toString()).toBe(body);
    }
  });

  it('gives curl --path-as-is the same answers', async () => {
    for (const [target, status] of [['/files/../secret.txt', 400], ['/files/%2e%2e/secret.txt', 400], ['/files/link-out', 403], ['/files/ok.txt', 200]] as const) {
      const result = await curl(['--path-as-is', '-o', '/dev/null', '-w', '%{http_code}', `${server.base}${target}`]);
      expect(result.stdout.toString(), target).toBe(String(status));
    }
  });

  it('refuses methods other than GET and HEAD on files', async () => {
    const response = await rawRequest(server.server.port, 'DELETE /files/ok.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(response.status).toBe(405);
    expect(response.headers['allow']).toBe('GET, HEAD');
  });
});
