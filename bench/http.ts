/**
 * `npm run bench:http`: 32 concurrent curl clients each download one 200 MB file, from pxedeck's HTTP
 * server and from nginx (Debian's, with its stock sendfile setup) in the same run, both on 127.0.0.1;
 * then one client alone. Prints per round MB/s and the servers' CPU seconds per GB sent, and the
 * pxedeck/nginx ratios (issue 17's targets: CPU per GB at 32 clients <= 1.2x nginx's, one client's MB/s
 * >= 0.9x nginx's), and pxedeck's RSS before, at peak and after (the file is streamed, never buffered
 * whole: memory should stay flat). pxedeck's server is the compiled one (dist/, built by the npm script).
 *
 * pxedeck runs in its own process (this script with --serve), so its RSS is its own and both servers
 * compete with the same 32 curl processes for the same 2 cores. Clients, /proc figures and nginx come
 * from http-load.ts. Needs `curl` and `nginx` (apt-get install nginx-light).
 *
 * Rounds alternate between the two servers and the ratio is the median of per-round ratios: other load
 * on the machine moves both numbers, the ratio much less.
 *
 * Options: --clients N (32), --size-mb N (200), --rounds N (5), --single-rounds N (5; 0 skips the one-client case).
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuPerGb, median, nginxBinary, option, round, rssKiB, startNginx, serveForParent, startServerChild, stopServerChild, type Download, type Nginx, type RoundResult } from './http-load.js';

async function serve(dir: string): Promise<void> {
  const { createHttpServer } = (await import(new URL('../dist/src/servers/http/server.js', import.meta.url).href)) as typeof import('../src/servers/http/server.js');
  const server = await createHttpServer({
    bind: { address: '127.0.0.1', port: 0 },
    emit: () => undefined,
    renderIpxeScript: async () => ({ script: '#!ipxe\n' }),
    roots: [{ prefix: '/files', dir }],
  });
  serveForParent(server.port, () => server.close());
}

const describe = (r: RoundResult): string =>
  `${r.megabytesPerSecond.toFixed(0)} MB/s (${r.seconds.toFixed(2)} s, CPU ${r.cpuSeconds.toFixed(2)} s = ${cpuPerGb(r).toFixed(3)} s/GB${r.failures ? `, ${r.failures} FAILED` : ''})`;

async function main(): Promise<void> {
  const clients = option('clients', 32);
  const sizeMb = option('size-mb', 200);
  const rounds = option('rounds', 5);
  const singleRounds = process.argv.includes('--single-rounds') ? Math.max(0, Number(process.argv[process.argv.indexOf('--single-rounds') + 1]) || 0) : 5;
  const nginxPath = nginxBinary();
  if (!nginxPath) {
    console.error('nginx not found: apt-get install -y nginx-light (the bench compares against it)');
    process.exit(2);
  }

  const work = mkdtempSync(join(tmpdir(), 'pxd-bench-http-'));
  // nginx's workers drop to an unprivileged user: the tree must be readable by it.
  chmodSync(work, 0o755);
  const files = join(work, 'files');
  mkdirSync(files);
  chmodSync(files, 0o755);
  const size = sizeMb * 1_000_000;
  const filePath = join(files, 'initrd.img');
  const fd = openSync(filePath, 'w', 0o644);
  const block = randomBytes(1_000_000);
  for (let i = 0; i < sizeMb; i++) writeSync(fd, block);
  closeSync(fd);
  readFileSync(filePath); // into the page cache, so both servers read from memory

  let pxedeck: ChildProcess | undefined;
  let nginx: Nginx | undefined;
  try {
    const started = await startServerChild(fileURLToPath(import.meta.url), files);
    pxedeck = started.child;
    const port = started.port;
    nginx = await startNginx(nginxPath, work, [{ prefix: '/files/', dir: files }]);
    const ours: Download = { url: `http://127.0.0.1:${port}/files/initrd.img`, size };
    const theirs: Download = { url: `http://127.0.0.1:${nginx.port}/files/initrd.img`, size };
    const pxedeckPids = [pxedeck.pid!];
    // One small warm-up each (JIT, connection setup paths).
    await round([ours], 2, pxedeckPids);
    await round([theirs], 2, nginx.pids);

    const rssBefore = rssKiB(pxedeck.pid!);
    let rssPeak = rssBefore;
    const sample = (): void => {
      rssPeak = Math.max(rssPeak, rssKiB(pxedeck!.pid!));
    };
    console.log(`${clients} clients × ${sizeMb} MB over 127.0.0.1, ${rounds} rounds each (pxedeck pid ${pxedeck.pid}, nginx pid ${nginx.process.pid})`);
    const ourRates: number[] = [];
    const theirRates: number[] = [];
    const ratios: number[] = [];
    const cpuRatios: number[] = [];
    for (let i = 1; i <= rounds; i++) {
      const a = await round([ours], clients, pxedeckPids, sample);
      const b = await round([theirs], clients, nginx.pids);
      ourRates.push(a.megabytesPerSecond);
      theirRates.push(b.megabytesPerSecond);
      ratios.push(a.megabytesPerSecond / b.megabytesPerSecond);
      cpuRatios.push(cpuPerGb(a) / cpuPerGb(b));
      console.log(`round ${i}: pxedeck ${describe(a)}  nginx ${describe(b)}  MB/s ratio ${ratios.at(-1)!.toFixed(2)}, CPU/GB ratio ${cpuRatios.at(-1)!.toFixed(2)}`);
    }
    const single: number[] = [];
    for (let i = 1; i <= singleRounds; i++) {
      // One client fetching the file 5 times over one connection: a single 200 MB fetch takes ~0.1 s.
      const a = await round(Array(5).fill(ours), 1, pxedeckPids, sample);
      const b = await round(Array(5).fill(theirs), 1, nginx.pids);
      single.push(a.megabytesPerSecond / b.megabytesPerSecond);
      console.log(`one client, round ${i}: pxedeck ${describe(a)}  nginx ${describe(b)}  MB/s ratio ${single.at(-1)!.toFixed(2)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const rssAfter = rssKiB(pxedeck.pid!);
    const ratio = median(ratios);
    const cpuRatio = median(cpuRatios);
    console.log(`${clients} clients, medians of rounds: pxedeck ${median(ourRates).toFixed(0)} MB/s, nginx ${median(theirRates).toFixed(0)} MB/s, MB/s ratio ${ratio.toFixed(2)}; CPU per GB ratio ${cpuRatio.toFixed(2)} (target <= 1.20) ${cpuRatio <= 1.2 ? 'OK' : 'ABOVE TARGET'}`);
    if (single.length > 0) {
      const singleRatio = median(single);
      console.log(`one client, median of rounds: MB/s ratio ${singleRatio.toFixed(2)} (target >= 0.90) ${singleRatio >= 0.9 ? 'OK' : 'BELOW TARGET'}`);
    }
    console.log(`pxedeck RSS: before ${(rssBefore / 1024).toFixed(1)} MiB, peak ${(rssPeak / 1024).toFixed(1)} MiB, after ${(rssAfter / 1024).toFixed(1)} MiB (file ${sizeMb} MB × ${clients} clients = ${((sizeMb * clients) / 1000).toFixed(1)} GB sent per round)`);
  } finally {
    await nginx?.stop();
    await stopServerChild(pxedeck);
    rmSync(work, { recursive: true, force: true });
  }
}

const serveIndex = process.argv.indexOf('--serve');
if (serveIndex !== -1) await serve(process.argv[serveIndex + 1]!);
else await main();
