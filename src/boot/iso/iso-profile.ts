/**
 * An ISO as a profile: named after its file, titled with the distribution and version read from it, and
 * booted by the plan's methods with URLs into pxedeck's HTTP server (`/iso/<id>.iso` for the image,
 * `/iso/<id>/<path>` for files in it). A plan that boots both firmware kinds the same way with one kernel
 * becomes a kernel profile (so PXELINUX and explain show it like any other); anything else an iPXE script
 * that branches on the platform.
 */
import type { Profile, Source } from '../profile.js';
import { describeMethod, type IsoBootPlan, type IsoMethod } from './plan.js';

const ISO_SOURCE = /^iso:([a-z0-9][a-z0-9._-]*)\/(.*)$/;

/** A profile source naming a file inside an ISO: `iso:<id>/<path>`. */
export function isoSource(id: string, path: string): Source {
  return `iso:${id}/${path.replace(/^\/+/, '')}`;
}

export function parseIsoSource(source: Source): { readonly id: string; readonly path: string } | undefined {
  const match = ISO_SOURCE.exec(source);
  return match ? { id: match[1]!, path: match[2]! } : undefined;
}

/** URL paths (after the server base) of the image and of a file in it. */
export function isoImageUrlPath(id: string): string {
  return `/iso/${encodeURIComponent(id)}.iso`;
}

export function isoFileUrlPath(id: string, path: string): string {
  const encoded = path.replace(/^\/+/, '').split('/').map(encodeURIComponent).join('/');
  return `/iso/${encodeURIComponent(id)}/${encoded}`;
}

/** "Ubuntu 24.04.1 LTS.iso" → "ubuntu-24.04.1-lts"; ids must be short, lower-case words. */
export function isoProfileId(fileName: string): string {
  const stem = fileName.replace(/\.iso$/i, '').toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 60).replace(/[-.]+$/, '');
  return stem || 'iso';
}

export interface IsoProfileInput {
  readonly id: string;
  readonly fileName: string;
  readonly plan: IsoBootPlan;
}

function sameKernelEverywhere(plan: IsoBootPlan): Extract<IsoMethod, { kind: 'kernel' }> | undefined {
  const { bios, efi } = plan;
  if (!bios || !efi || bios.kind !== 'kernel' || JSON.stringify(bios) !== JSON.stringify(efi)) return undefined;
  return bios.initrds.every((initrd) => 'path' in initrd) ? bios : undefined;
}

function methodLines(method: IsoMethod, id: string): string[] {
  const url = (path: string) => `{{tree_url}}${isoFileUrlPath(id, path).slice(`/iso/${encodeURIComponent(id)}`.length)}`;
  const beacon = 'imgfetch --name pxedeck-booted {{booted_url}} && imgfree pxedeck-booted ||';
  switch (method.kind) {
    case 'kernel': {
      const names = method.initrds.map((initrd, index) => ('path' in initrd ? `${index}-${initrd.path.split('/').pop()!.replace(/[^A-Za-z0-9._-]/g, '_')}` : initrd.name));
      return [
        `kernel ${url(method.kernel)} ${[...names.map((name) => `initrd=${name}`), method.cmdline].join(' ').trim()} || goto failed`,
        ...method.initrds.map((initrd, index) => `initrd --name ${names[index]} ${'path' in initrd ? url(initrd.path) : '{{iso_url}}'} || goto failed`),
        beacon,
        'boot || goto failed',
      ];
    }
    case 'wimboot':
      return ['kernel {{server}}/wimboot || goto failed', ...method.files.map((file) => `initrd --name ${file.name} ${url(file.path)} ${file.name} || goto failed`), beacon, 'boot || goto failed'];
    case 'sanboot':
      return [beacon, 'sanboot --no-describe {{iso_url}} || goto failed'];
    case 'chain':
      return [beacon, `chain ${url(method.path)} ${method.args} || goto failed`.replace(/ +\|\|/, ' ||')];
  }
}

function platformScript(input: IsoProfileInput, title: string): string {
  const { plan, id } = input;
  const none = (kind: string) => [`echo pxedeck: ${input.fileName} has no way to boot ${kind} machines`, 'sleep 10', 'exit'];
  return [
    '#!ipxe',
    `echo pxedeck: ${title}`,
    'iseq ${platform} efi && goto efi ||',
    ...(plan.bios ? methodLines(plan.bios, id) : none('BIOS')),
    'goto failed',
    ':efi',
    ...(plan.efi ? methodLines(plan.efi, id) : none('UEFI')),
    ':failed',
    'echo pxedeck: boot failed, asking the server again in 5 seconds',
    'sleep 5',
    'chain --replace --autofree {{server}}/ipxe?mac={{mac}}',
    '',
  ].join('\n');
}

export function isoProfile(input: IsoProfileInput): Profile {
  const { id, fileName, plan } = input;
  const title = `${plan.distribution}${plan.version ? ` ${plan.version}` : ''} (${fileName})`;
  const variables = { iso_url: `{{server}}${isoImageUrlPath(id)}`, tree_url: `{{server}}/iso/${encodeURIComponent(id)}` };
  const description = [plan.summary, ...plan.notes].join('. ');
  const kernel = sameKernelEverywhere(plan);
  if (kernel) {
    return {
      id,
      title,
      description,
      kernel: isoSource(id, kernel.kernel),
      initrds: kernel.initrds.map((initrd) => isoSource(id, (initrd as { path: string }).path)),
      cmdline: kernel.cmdline,
      variables,
    };
  }
  return { id, title, description, initrds: [], cmdline: '', script: platformScript(input, title), variables };
}

/** The console's words for how each firmware kind boots this plan. */
export function firmwareSummary(plan: IsoBootPlan): string {
  const bios = plan.bios ? describeMethod(plan.bios) : 'no';
  const efi = plan.efi ? describeMethod(plan.efi) : 'no';
  return bios === efi ? `BIOS and UEFI: ${bios}` : `BIOS: ${bios}; UEFI: ${efi}`;
}
