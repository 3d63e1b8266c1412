/**
 * An external decision source in the shape of Pixiecore's API mode: pxedeck asks
 * `GET <base>/v1/boot/<mac>?arch=…&uuid=…` and boots what it answers. Unreachable or broken sources
 * fall back to the local assignment; the caller reports why.
 */
import type { BootTarget } from '../boot/boot-target.js';
import type { Mac } from '../protocol/mac.js';

export type BootApiAnswer =
  | { readonly kind: 'target'; readonly target: BootTarget }
  /** The source has no opinion on this machine (404): use the local assignment. */
  | { readonly kind: 'none' }
  | { readonly kind: 'unavailable'; readonly reason: string };

export interface BootApiRequest {
  readonly mac: Mac;
  readonly arch?: string;
  readonly uuid?: string;
}

/** Pixiecore's cmdline may be a string or an object of key → value (true for bare flags). */
function cmdlineOf(value: unknown): string | undefined {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return Object.entries(value)
    .map(([key, item]) => (item === true ? key : `${key}=${String(item)}`))
    .join(' ');
}

export function parseBootApiAnswer(body: unknown): BootApiAnswer {
  if (typeof body !== 'object' || body === null) return { kind: 'unavailable', reason: 'the answer is not a JSON object' };
  const value = body as Record<string, unknown>;
  const script = value['ipxe-script'] ?? value.script;
  if (typeof script === 'string') return { kind: 'target', target: { kind: 'script', script } };
  if (typeof value.kernel !== 'string' || !/^(https?:\/\/|\/)/.test(value.kernel)) {
    return { kind: 'unavailable', reason: 'the answer has no "kernel" URL (or "ipxe-script")' };
  }
  const initrdRaw = value.initrd ?? [];
  const initrds = Array.isArray(initrdRaw) ? initrdRaw : [initrdRaw];
  if (!initrds.every((item): item is string => typeof item === 'string' && /^(https?:\/\/|\/)/.test(item))) {
    return { kind: 'unavailable', reason: '"initrd" must be a URL or a list of URLs' };
  }
  const cmdline = cmdlineOf(value.cmdline);
  if (cmdline === undefined) return { kind: 'unavailable', reason: '"cmdline" must be a string or an object' };
  return { kind: 'target', target: { kind: 'inline', kernel: value.kernel, initrds, cmdline } };
}

export async function askBootApi(base: string, request: BootApiRequest, timeoutMs = 2000): Promise<BootApiAnswer> {
  const url = new URL(`v1/boot/${encodeURIComponent(request.mac)}`, base.endsWith('/') ? base : `${base}/`);
  if (request.arch) url.searchParams.set('arch', request.arch);
  if (request.uuid) url.searchParams.set('uuid', request.uuid);
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
    if (response.status === 404) return { kind: 'none' };
    if (!response.ok) return { kind: 'unavailable', reason: `${url.origin} answered ${response.status}` };
    return parseBootApiAnswer(await response.json());
  } catch (error) {
    return { kind: 'unavailable', reason: `${url.origin} did not answer: ${(error as Error).message}` };
  }
}
