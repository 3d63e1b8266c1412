/**
 * The BSD form (RFC 3164) after `<PRI>`: [TIMESTAMP SP [HOSTNAME SP]] [TAG: ]CONTENT. RFC 3164 describes
 * what was found in the wild rather than a grammar, so every part is optional and found by shape:
 * - util-linux `logger --rfc3164`: `<13>Nov 25 14:14:12 vm mytag: text`
 * - busybox syslogd -R (installer initrds) forwards the local line: `<29>Nov 25 14:14:19 tag: text` (no host)
 * - rsyslog's forward format puts an RFC 3339 time where the BSD one goes
 * - iPXE (option 7): `<6>ipxe: text`, or `<6>host ipxe: text` once it has a hostname (no timestamp)
 * A first token that is itself a tag is never a hostname; without a timestamp a token counts as hostname
 * only when a tag follows it, so plain text after `<PRI>` stays message text.
 */

export interface Rfc3164Fields {
  readonly timestamp?: string;
  readonly hostname?: string;
  readonly app?: string;
  readonly procId?: string;
  readonly message: string;
}

const BSD_TIME = /^(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) {1,2}\d{1,2} (?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,6})?(?= |$)/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})(?= |$)/;
const TAG = /^([^\s[\]:]{1,64})(?:\[([^\]\s]{0,128})\])?:(?: |$)/;
const HOSTNAME = /^[A-Za-z0-9][A-Za-z0-9._:%-]{0,254}(?= )/;

export function parseRfc3164(line: string, start: number): Rfc3164Fields {
  let rest = line.slice(start);
  const time = BSD_TIME.exec(rest) ?? ISO_TIME.exec(rest);
  const timestamp = time?.[0];
  if (timestamp !== undefined) rest = rest.slice(timestamp.length + 1);

  let hostname: string | undefined;
  if (!TAG.test(rest)) {
    const host = HOSTNAME.exec(rest)?.[0];
    if (host !== undefined && (timestamp !== undefined || TAG.test(rest.slice(host.length + 1)))) {
      hostname = host;
      rest = rest.slice(host.length + 1);
    }
  }

  const tag = TAG.exec(rest);
  const message = tag ? rest.slice(tag[0].length) : rest;
  return {
    ...(timestamp !== undefined && { timestamp }),
    ...(hostname !== undefined && { hostname }),
    ...(tag && { app: tag[1]! }),
    ...(tag?.[2] && { procId: tag[2] }),
    message,
  };
}
