/**
 * `npm run bench:iso` (run it as `flock -x /work/.locks/heavy npm run bench:iso`): a 1 GB installer ISO
 * (casper layout: a 900 MB squashfs, a 90 MB initrd, a kernel) served to 32 curl clients at once, two
 * ways: the ISO itself, and the files inside it. pxedeck serves both straight from the image (its extents,
 * through sendfile); nginx serves the ISO and the same files extracted to a directory. Prints MB/s and
 * server CPU seconds per GB for each, and the pxedeck/nginx ratios (medians of rounds).
 *
 * Options: --clients N (32), --rounds N (3), --size-mb N (1000, the ISO's size roughly).
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuPerGb, median, nginxBinary, option, round, startNginx, serveForParent, startServerChild, stopServerChild, type Download, type Nginx, type RoundResult } from './http-load.js';

async function serve(isoDir: string): Promise<void> {
  const { createHttpServer } = await import('../src/servers/http/server.js');
  const { createIsoCatalog } = await import('../src/servers/iso/catalog.js');
  const { isoProfileId } = await import('../src/boot/iso/iso-profile.js');
  const catalog = createIsoCatalog({ directories: [isoDir], bootFiles: () => new Set(), idFor: isoProfileId });
  await catalog.refresh();
  const server = await createHttpServer({
    bind: { address: '127.0.0.1', port: 0 },
    emit: () => undefined,
    renderIpxeScript: async () => ({ script: '#!ipxe\n' }),
    roots: [],
    isoFiles: (rest) => catalog.resolve(rest),
  });
  serveForParent(server.port, () => Promise.all([server.close(), catalog.close()]));
}

/** Writes `megabytes` of incompressible bytes (a 1 MB random block repeated: TCP does not compress). */
function writeFile(path: string, megabytes: number, block: Buffer): void {
  const fd = openSync(path, 'w', 0o644);
  try {
    for (let index = 0; index < megabytes; index++) writeSync(fd, block);
  } finally {
    closeSync(fd);
  }
}

interface Figures {
  readonly label: string;
  readonly results: RoundResult[];
}

function line(figures: Figures): string {
  const { results } = figures;
  const failures = results.reduce((sum, result) => sum + result.failures, 0);
  return `${figures.label.padEnd(30)} ${median(results.map((result) => result.megabytesPerSecond)).toFixed(0).padStart(6)} MB/s   server CPU ${median(results.map(cpuPerGb)).toFixed(3)} s/GB${failures ? `   ${failures} FAILED` : ''}`;
}

async function main(): Promise<void> {
  const clients = option('clients', 32);
  const rounds = option('rounds', 3);
  const sizeMb = option('size-mb', 1000);
  const nginxPath = nginxBinary();
  if (!nginxPath) {
    console.error('nginx not found: apt-get install -y nginx-light (the bench compares against it)');
    process.exit(2);
  }
  const work = mkdtempSync(join(tmpdir(), 'pxd-bench-iso-'));
  chmodSync(work, 0o755);
  const tree = join(work, 'extracted');
  const isoDir = join(work, 'isos');
  for (const dir of [tree, join(tree, 'casper'), join(tree, '.disk'), isoDir]) {
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o755);
  }
  const block = randomBytes(1_000_000);
  const squashMb = Math.max(1, sizeMb - 105);
  writeFile(join(tree, 'casper', 'filesystem.squashfs'), squashMb, block);
  writeFile(join(tree, 'casper', 'initrd'), 90, block);
  writeFile(join(tree, 'casper', 'vmlinuz'), 15, block);
  execFileSync('sh', ['-c', `echo 'Ubuntu-Server 24.04.1 LTS "Noble Numbat" - Release amd64' > '${join(tree, '.disk', 'info')}'`]);
  const iso = join(isoDir, 'ubuntu-bench.iso');
  execFileSync('xorriso', ['-as', 'mkisofs', '-R', '-J', '-quiet', '-V', 'UBUNTU_BENCH', '-o', iso, tree], { stdio: ['ignore', 'ignore', 'inherit'] });
  chmodSync(iso, 0o644);
  const isoSize = statSync(iso).size;
  const files = ['casper/vmlinuz', 'casper/initrd', 'casper/filesystem.squashfs'].map((path) => ({ path, size: statSync(join(tree, path)).size }));
  // Both copies into the page cache: both servers read from memory.
  for (const path of [iso, ...files.map((file) => join(tree, file.path))]) readFileSync(path);

  let pxedeck: ChildProcess | undefined;
  let nginx: Nginx | undefined;
  try {
    const started = await startServerChild(fileURLToPath(import.meta.url), isoDir);
    pxedeck = started.child;
    const port = started.port;
    nginx = await startNginx(nginxPath, work, [
      { prefix: '/isos/', dir: isoDir },
      { prefix: '/tree/', dir: tree },
    ]);
    const ours = `http://127.0.0.1:${port}`;
    const theirs = `http://127.0.0.1:${nginx.port}`;
    const workloads: Array<{ label: string; pxedeck: Download[]; nginx: Download[] }> = [
      { label: 'the ISO itself', pxedeck: [{ url: `${ours}/iso/ubuntu-bench.iso`, size: isoSize }], nginx: [{ url: `${theirs}/isos/ubuntu-bench.iso`, size: isoSize }] },
      {
        label: 'the files inside it',
        pxedeck: files.map((file) => ({ url: `${ours}/iso/ubuntu-bench/${file.path}`, size: file.size })),
        nginx: files.map((file) => ({ url: `${theirs}/tree/${file.path}`, size: file.size })),
      },
    ];
    console.log(`ISO of ${(isoSize / 1e6).toFixed(0)} MB; ${clients} clients at once over 127.0.0.1, ${rounds} rounds each; pxedeck from the image, nginx from the image and from the extracted files`);
    for (const workload of workloads) {
      await round(workload.pxedeck.slice(0, 1), 2, [pxedeck.pid!]);
      await round(workload.nginx.slice(0, 1), 2, nginx.pids);
      const a: Figures = { label: `pxedeck: ${workload.label}`, results: [] };
      const b: Figures = { label: `nginx: ${workload.label}`, results: [] };
      for (let index = 0; index < rounds; index++) {
        a.results.push(await round(workload.pxedeck, clients, [pxedeck.pid!]));
        b.results.push(await round(workload.nginx, clients, nginx.pids));
      }
      const ratio = median(a.results.map((result, index) => result.megabytesPerSecond / b.results[index]!.megabytesPerSecond));
      console.log(line(a));
      console.log(line(b));
      console.log(`${''.padEnd(30)} ratio pxedeck/nginx ${ratio.toFixed(2)} (median of rounds)`);
    }
  } finally {
    await nginx?.stop();
    await stopServerChild(pxedeck);
    rmSync(work, { recursive: true, force: true });
  }
}

const serveIndex = process.argv.indexOf('--serve');
if (serveIndex !== -1) await serve(process.argv[serveIndex + 1]!);
else await main();
