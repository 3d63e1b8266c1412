/**
 * The TFTP block size follows the link: over a veth between two namespaces this test creates, a client
 * asking blksize 8192 gets the largest block one frame carries — 1468 at MTU 1500 over IPv4, 1448 over
 * IPv6, 8192 once the link runs 9000-byte jumbo frames (and at most 8968 there) — and an operator's cap
 * above the MTU is honoured (fragments). Root only.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TransferEvent } from '../../src/servers/events.js';
import { NetnsLab, netnsUnavailableReason, repoRoot, type NsProcess } from '../support/netns.js';

const skip = netnsUnavailableReason(['curl']);
const SERVER = { v4: '10.81.0.1', v6: 'fd81::1' };
const CLIENT = { v4: '10.81.0.2', v6: 'fd81::2' };

describe.skipIf(skip !== undefined)(`TFTP block size and the interface MTU${skip ? ` — skipped: ${skip}` : ''}`, () => {
  let lab: NetnsLab;
  let srv: string;
  let cli: string;
  const content = randomBytes(300_000);

  beforeAll(async () => {
    lab = new NetnsLab('i');
    srv = lab.namespace('srv');
    cli = lab.namespace('cli');
    lab.veth({ ns: srv, name: 'srv0', address: `${SERVER.v4}/24` }, { ns: cli, name: 'eth0', address: `${CLIENT.v4}/24` });
    lab.ip(srv, 'addr', 'add', `${SERVER.v6}/64`, 'dev', 'srv0', 'nodad');
    lab.ip(cli, 'addr', 'add', `${CLIENT.v6}/64`, 'dev', 'eth0', 'nodad');
    const root = join(lab.dir, 'root');
    mkdirSync(root);
    chmodSync(lab.dir, 0o755);
    chmodSync(root, 0o755);
    writeFileSync(join(root, 'file.bin'), content);
  }, 30_000);

  afterAll(async () => {
    await lab?.destroy();
  });

  const setMtu = (mtu: number): void => {
    lab.ip(srv, 'link', 'set', 'srv0', 'mtu', String(mtu));
    lab.ip(cli, 'link', 'set', 'eth0', 'mtu', String(mtu));
  };

  async function serve(extra: readonly string[] = []): Promise<NsProcess> {
    const server = lab.spawn(srv, process.execPath, [
      '--import', 'tsx', join(repoRoot, 'bench', 'tftp-serve.ts'),
      '--address', SERVER.v4, '--address', SERVER.v6, '--port', '69', '--root', join(lab.dir, 'root'), '--events', ...extra,
    ], 'tftp-serve', 'pipe');
    await server.waitForOutput(/"ready":true/, 20_000);
    return server;
  }

  /** curl fetches the file asking `blksize`; resolves with the block size the server negotiated. */
  async function negotiated(server: NsProcess, url: string, blksize: number): Promise<number | undefined> {
    const result = await lab.exec(cli, 'curl', ['-sS', '-g', '--max-time', '20', '--tftp-blksize', String(blksize), '-o', '/dev/null', '-w', '%{size_download}', url]);
    expect(result.stderr, server.tail()).toBe("");
    expect(result.stdout).toBe(String(content.length));
    const starts = server.stdout
      .split('\n')
      .filter((line) => line.includes('"transfer.start"'))
      .map((line) => JSON.parse(line) as TransferEvent);
    return starts.at(-1)?.options?.blksize;
  }

  it('MTU 1500: a client asking 8192 gets 1468 over IPv4 and 1448 over IPv6; 9000: 8192, at most 8968', { timeout: 60_000 }, async () => {
    setMtu(1500);
    const server = await serve();
    try {
      expect(await negotiated(server, `tftp://${SERVER.v4}/file.bin`, 8192)).toBe(1468);
      expect(await negotiated(server, `tftp://[${SERVER.v6}]/file.bin`, 8192)).toBe(1448);
      expect(await negotiated(server, `tftp://${SERVER.v4}/file.bin`, 1024)).toBe(1024);
      // Jumbo frames switched on while the server runs: the cap follows within seconds.
      setMtu(9000);
      await new Promise((resolve) => setTimeout(resolve, 5500));
      expect(await negotiated(server, `tftp://${SERVER.v4}/file.bin`, 8192)).toBe(8192);
      expect(await negotiated(server, `tftp://${SERVER.v4}/file.bin`, 65464)).toBe(8968);
      expect(await negotiated(server, `tftp://[${SERVER.v6}]/file.bin`, 65464)).toBe(8948);
    } finally {
      await server.stop();
    }
  });

  it("an operator's cap above the MTU is honoured: the blocks travel as IP fragments", { timeout: 60_000 }, async () => {
    setMtu(1500);
    const server = await serve(['--blksize-cap', '8192']);
    try {
      expect(await negotiated(server, `tftp://${SERVER.v4}/file.bin`, 8192)).toBe(8192);
    } finally {
      await server.stop();
    }
  });
});
