/**
 * The constant `/boot.ipxe` every iPXE is pointed at, and the query `/ipxe` reads back from it.
 *
 * The script asks iPXE for what helps the boot core decide (the booting NIC's MAC, SMBIOS identity, the
 * build architecture and firmware platform, the DHCP host name) and chains to this machine's own script.
 * `netX` is the device iPXE opened last, i.e. the one that just did DHCP: on a multi-NIC machine `net0` may
 * be another port. `sleep` is in every iPXE build we ship; `inc` is not, so the retries are unrolled.
 */
import { machineWord, machineWordRule } from '../../boot/script-value.js';
import { parseMac, type Mac } from '../../protocol/mac.js';

/**
 * The fields `/boot.ipxe` sends, in the order it sends them, with the iPXE setting that fills each.
 * Free text (SMBIOS strings, the DHCP host name) goes as bare hex (`:hexraw`): the 2019 Debian iPXE's
 * `:uristring` leaves `&` and `+` unescaped (measured: `product=Test%20&%20Co+x%25y`), which splits or
 * garbles the query.
 * `enc=hex` marks those fields, so a hand-written `/ipxe?product=...` still reads as plain text.
 */
export const bootScriptQuery = [
  ['mac', '${netX/mac:hexhyp}'],
  ['uuid', '${uuid}'],
  ['arch', '${buildarch}'],
  ['platform', '${platform}'],
  ['enc', 'hex'],
  ['manufacturer', '${manufacturer:hexraw}'],
  ['product', '${product:hexraw}'],
  ['serial', '${serial:hexraw}'],
  ['hostname', '${hostname:hexraw}'],
] as const;

const HEX_FIELDS = ['manufacturer', 'product', 'serial', 'hostname'] as const;

/** Seconds to wait before each retry of the chain; then iPXE exits so the firmware tries its next boot device. */
export const chainRetryDelays = [2, 4, 8, 16] as const;

/** `baseUrl` without a trailing slash, e.g. `http://10.77.0.1:8080` or `http://[fd77::1]:8080`. */
export function renderBootScript(baseUrl: string): string {
  const query = bootScriptQuery.map(([name, setting]) => `${name}=${setting}`).join('&');
  const tries = chainRetryDelays.length + 1;
  const lines = [
    '#!ipxe',
    '# pxedeck: fetch this machine\'s own boot script, retrying while the server is unreachable',
    `set pxedeck-script ${baseUrl}/ipxe?${query}`,
    'chain ${pxedeck-script} || goto pxedeck-retry-1',
    'goto pxedeck-end',
  ];
  chainRetryDelays.forEach((delay, index) => {
    const attempt = index + 2;
    const onFailure = attempt < tries ? `goto pxedeck-retry-${attempt}` : 'goto pxedeck-failed';
    lines.push(
      `:pxedeck-retry-${index + 1}`,
      `echo pxedeck: no boot script from ${baseUrl} (attempt ${attempt - 1} of ${tries}), retrying in ${delay} s`,
      `sleep ${delay}`,
      `chain \${pxedeck-script} || ${onFailure}`,
      'goto pxedeck-end',
    );
  });
  lines.push(
    ':pxedeck-failed',
    `echo pxedeck: no boot script from ${baseUrl} after ${tries} attempts, trying the next boot device`,
    'sleep 5',
    'exit 1',
    ':pxedeck-end',
    '',
  );
  return lines.join('\n');
}

/** What `/ipxe` hands the boot core. `mac` is always known: from the query, else from the client's IP. */
export interface ScriptRequest {
  readonly mac: Mac;
  readonly ip: string;
  readonly uuid?: string;
  /** iPXE's `${buildarch}` (i386, x86_64, arm64); `buildarch` carries the same value for callers that prefer the name. */
  readonly arch?: string;
  readonly buildarch?: string;
  readonly platform?: string;
  readonly manufacturer?: string;
  readonly product?: string;
  readonly serial?: string;
  readonly hostname?: string;
  readonly profile?: string;
}

export type ScriptQuery =
  /** `unused` names the fields left out because they could not land in a script safely (see script-value.ts). */
  | { readonly kind: 'ok'; readonly request: ScriptRequest; readonly unused?: string }
  | { readonly kind: 'invalid'; readonly reason: string };

const MAX_FIELD = 256;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** iPXE's `:hexraw` is bare pairs (`51454d55`); `:hex` and `:hexhyp` separators are accepted too. */
function fromHex(text: string): string | undefined {
  const compact = text.replace(/[:-]/g, '');
  if (!/^([0-9a-f]{2})*$/i.test(compact)) return undefined;
  return Buffer.from(compact, 'hex').toString('utf8');
}

/** Empty settings expand to ''; SMBIOS strings may carry padding or junk bytes: keep printable text only. */
function field(params: URLSearchParams, name: string): string | undefined {
  let raw = params.get(name);
  if (raw === null) return undefined;
  if (params.get('enc') === 'hex' && (HEX_FIELDS as readonly string[]).includes(name)) raw = fromHex(raw) ?? '';
  const clean = raw.replace(/[\u0000-\u001f\u007f\ufffd]/g, '').trim().slice(0, MAX_FIELD);
  return clean === '' ? undefined : clean;
}

/** The rest of the query, once the server knows which machine the request speaks for (requester.ts). */
export function parseScriptQuery(params: URLSearchParams, ip: string, mac: Mac): ScriptQuery {
  const uuidText = field(params, 'uuid');
  // QEMU without -uuid, and boards that never set one, report all zeros (or all ones): shared, so no identity.
  const uuid = uuidText !== undefined && UUID.test(uuidText) && !/^[0-]+$|^[f-]+$/i.test(uuidText) ? uuidText.toLowerCase() : undefined;
  // What reaches a script or config must be one safe word; the rest (SMBIOS text) is only shown.
  const unused: string[] = [];
  const word = (name: string, text: string | undefined): string | undefined => {
    const value = machineWord(text);
    if (text !== undefined && value === undefined) unused.push(`${name} ${JSON.stringify(text.slice(0, 40))}`);
    return value;
  };
  const arch = word('arch', field(params, 'arch') ?? field(params, 'buildarch'));
  const optional = {
    uuid,
    arch,
    buildarch: arch,
    platform: word('platform', field(params, 'platform')),
    manufacturer: field(params, 'manufacturer'),
    product: field(params, 'product'),
    serial: field(params, 'serial'),
    hostname: word('hostname', field(params, 'hostname')),
    // A menu selection coming back: the rendered menu chains /ipxe?...&profile=<id>.
    profile: field(params, 'profile'),
  };
  const present = Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== undefined));
  return {
    kind: 'ok',
    request: { mac, ip, ...present },
    ...(unused.length > 0 && { unused: `not used, each must be ${machineWordRule}: ${unused.join(', ')}` }),
  };
}
