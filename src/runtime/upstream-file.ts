/**
 * An upstream source as a whole local file, for TFTP: the signed GRUB cannot read HTTP, so a profile's
 * kernel that is a URL reaches it through pxedeck's cache. A TFTP answer needs the file complete (its size
 * goes in the option acknowledgement), so this waits for the download; GRUB's config retries a load that
 * timed out meanwhile, and the cache downloads once however many machines ask.
 */
import { basename } from 'node:path';
import type { ConfinedFile } from '../servers/files/confined-open.js';
import type { UpstreamCache } from '../servers/http/upstream-cache.js';

/** Longer than GRUB waits for one answer: a slower download is answered on a later try, from the cache. */
export const UPSTREAM_TFTP_WAIT_MS = 60_000;

/** The cached copy, confined to the cache directory like every served file. */
export async function upstreamFileFor(cache: UpstreamCache, cacheDir: string, url: string, waitMs = UPSTREAM_TFTP_WAIT_MS): Promise<ConfinedFile> {
  const deadline = Date.now() + waitMs;
  for (let attempt = 0; attempt < 3; attempt++) {
    const source = await cache.open(url);
    if (source.kind === 'failed') throw new Error(`${url}: ${source.message}`);
    if (source.kind === 'cached') {
      const path = basename(source.opened.path);
      await source.opened.handle.close();
      source.release();
      return { root: cacheDir, path };
    }
    const { download } = source;
    try {
      while (download.state === 'running') {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`${url} is still downloading into the cache (${download.available} bytes so far); the machine's next try gets it`);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([download.changed(), new Promise<void>((resolve) => (timer = setTimeout(resolve, left)))]);
        clearTimeout(timer);
      }
    } finally {
      source.release();
    }
    if (download.state === 'failed') throw new Error(`${url}: ${download.error ?? 'download failed'}`);
    // Complete: the next open finds it in the cache.
  }
  throw new Error(`${url}: the cached copy vanished while opening it`);
}
