/**
 * The RFC 5424 header after `<PRI>1 `: TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG].
 * util-linux logger, systemd-netlogd and rsyslog's RFC 5424 templates send it. Strict on structure (the
 * fields are space-separated and structured data has escapes, so a lenient reader would misplace MSG).
 */
import { SyslogDecodeError } from './decode-error.js';

export interface SdElement {
  readonly id: string;
  readonly params: readonly { readonly name: string; readonly value: string }[];
}

export interface Rfc5424Fields {
  readonly timestamp?: string;
  readonly hostname?: string;
  readonly app?: string;
  readonly procId?: string;
  readonly msgId?: string;
  readonly structuredData: readonly SdElement[];
  readonly message: string;
}

const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;
const SD_NAME = /^[\x21-\x7e]{1,32}$/;
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?(Z|[+-](\d{2}):(\d{2}))$/;
const BOM = '\ufeff';

function isTimestamp(text: string): boolean {
  const match = TIMESTAMP.exec(text);
  if (!match) return false;
  const [month, day, hour, minute, second] = match.slice(2, 7).map(Number) as [number, number, number, number, number];
  const offsetOk = match[8] === 'Z' || (Number(match[9]) <= 23 && Number(match[10]) <= 59);
  return month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 && second <= 59 && offsetOk;
}

/** `start` is just after the version's space; `base` turns line positions into datagram offsets. */
export function parseRfc5424(line: string, start: number, base: number): Rfc5424Fields {
  let pos = start;
  const fail = (what: string, at: number = pos): never => {
    throw new SyslogDecodeError(`RFC 5424 ${what}`, base + at);
  };

  const header = (name: string, maxLength: number, next: string): string | undefined => {
    const end = line.indexOf(' ', pos);
    if (end === -1) {
      return fail(pos < line.length ? `${next} missing: the line ends after ${name}` : `${name} missing: the line ends`, line.length);
    }
    const token = line.slice(pos, end);
    if (token === '') fail(`${name} empty (two spaces in a row)`);
    if (token.length > maxLength) fail(`${name} longer than ${maxLength} characters`);
    if (!PRINTABLE_ASCII.test(token)) fail(`${name} has a character outside printable ASCII`);
    const at = pos;
    pos = end + 1;
    if (name === 'TIMESTAMP' && token !== '-' && !isTimestamp(token)) fail(`TIMESTAMP "${token}" is not an RFC 3339 date-time`, at);
    return token === '-' ? undefined : token;
  };

  const sdName = (what: string, stops: string): string => {
    let end = pos;
    while (end < line.length && !stops.includes(line[end]!)) end += 1;
    const name = line.slice(pos, end);
    if (!SD_NAME.test(name) || /["=\]]/.test(name)) fail(`${what} "${name}" is not 1-32 printable characters without = ] "`);
    pos = end;
    return name;
  };

  const timestamp = header('TIMESTAMP', 64, 'HOSTNAME');
  const hostname = header('HOSTNAME', 255, 'APP-NAME');
  const app = header('APP-NAME', 48, 'PROCID');
  const procId = header('PROCID', 128, 'MSGID');
  const msgId = header('MSGID', 32, 'STRUCTURED-DATA');

  const structuredData: SdElement[] = [];
  if (line[pos] === '-') pos += 1;
  else if (line[pos] !== '[') fail(`STRUCTURED-DATA must be "-" or start with "[" (got ${pos < line.length ? `"${line[pos]}"` : 'the end of the line'})`);
  while (line[pos] === '[') {
    const elementStart = pos;
    pos += 1;
    const id = sdName('SD-ID', ' ]');
    const params: { name: string; value: string }[] = [];
    while (line[pos] === ' ') {
      pos += 1;
      const name = sdName('PARAM-NAME', '= ]');
      if (line[pos] !== '=') fail(`PARAM-NAME "${name}" not followed by =`);
      pos += 1;
      if (line[pos] !== '"') fail(`PARAM-VALUE of "${name}" does not start with a quote`);
      pos += 1;
      let value = '';
      for (;;) {
        if (pos >= line.length) fail(`PARAM-VALUE of "${name}" has no closing quote`, elementStart);
        const char = line[pos]!;
        if (char === '"') break;
        // Only \" \\ \] are escapes; any other backslash stays as it is (RFC 5424 §6.3.3).
        if (char === '\\' && pos + 1 < line.length && '"\\]'.includes(line[pos + 1]!)) {
          value += line[pos + 1];
          pos += 2;
        } else {
          value += char;
          pos += 1;
        }
      }
      pos += 1;
      params.push({ name, value });
    }
    if (line[pos] !== ']') fail(`SD-ELEMENT "${id}" not closed with "]"`);
    pos += 1;
    structuredData.push({ id, params });
  }

  let message = '';
  if (pos < line.length) {
    if (line[pos] !== ' ') fail('STRUCTURED-DATA not followed by a space before MSG');
    message = line.slice(pos + 1);
    if (message.startsWith(BOM)) message = message.slice(1);
  }
  return {
    ...(timestamp !== undefined && { timestamp }),
    ...(hostname !== undefined && { hostname }),
    ...(app !== undefined && { app }),
    ...(procId !== undefined && { procId }),
    ...(msgId !== undefined && { msgId }),
    structuredData,
    message,
  };
}
