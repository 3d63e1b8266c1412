/**
 * One UDP syslog datagram → its lines. RFC 5426 says one message per datagram, but senders put several
 * lines in one (logger with a multi-line argument, busybox's trailing newline), and pxedeck shows lines:
 * a line that starts with its own `<PRI>` is a new message, any other line continues the one before it
 * and keeps its priority, host and app. Only the first line decides whether the datagram is syslog.
 *
 * Message text is made safe to print: it ends up on the operator's terminal, so colour/cursor escape
 * sequences are removed and other control characters are shown as `\xNN`.
 */
import { SyslogDecodeError } from './decode-error.js';
import { MAX_PRI, priorityOf, type SyslogFacility, type SyslogSeverity } from './priority.js';
import { parseRfc3164 } from './rfc3164.js';
import { parseRfc5424, type SdElement } from './rfc5424.js';

export { SyslogDecodeError } from './decode-error.js';

export interface SyslogLine {
  readonly format: 'rfc3164' | 'rfc5424';
  readonly pri: number;
  readonly facility: SyslogFacility;
  readonly severity: SyslogSeverity;
  /** As sent; the sender's clock (often a fresh BIOS clock) is not trusted for ordering. */
  readonly timestamp?: string;
  readonly hostname?: string;
  readonly app?: string;
  readonly procId?: string;
  readonly msgId?: string;
  readonly structuredData?: readonly SdElement[];
  readonly message: string;
  /** The message was longer than `maxMessageLength` and was cut. */
  readonly truncated?: boolean;
}

export interface DecodeOptions {
  /** Characters kept per line. Default 2048 (RFC 5426 asks receivers to take 2048-octet messages). */
  readonly maxMessageLength?: number;
}

const DEFAULT_MAX_MESSAGE = 2048;
const PRI_START = /^<(\d{1,3})>/;
const VERSION = /^([1-9]\d{0,2}) /;
// CSI sequences (colours, cursor moves): systemd and installers colour their output.
const ESCAPE_SEQUENCE = /\x1b\[[0-?]*[ -/]*[@-~]/g;
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g;
const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

function printable(text: string): string {
  return text
    .replace(ESCAPE_SEQUENCE, '')
    .replace(CONTROL, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .trimEnd();
}

function readPri(line: string, base: number): { pri: number; end: number } {
  if (line[0] !== '<') {
    throw new SyslogDecodeError(`no PRI: a syslog message starts with "<N>" (got ${JSON.stringify(line.slice(0, 8))})`, base);
  }
  const match = PRI_START.exec(line);
  if (!match) {
    const digits = /^<\d*/.exec(line)![0].length - 1;
    if (digits === 0) throw new SyslogDecodeError('PRI has no digits after "<"', base + 1);
    throw new SyslogDecodeError(`PRI not closed by ">" after ${Math.min(digits, 3)} digit${digits === 1 ? '' : 's'}`, base + 1 + Math.min(digits, 3));
  }
  const pri = Number(match[1]);
  if (pri > MAX_PRI) throw new SyslogDecodeError(`PRI ${pri} is out of range (0-${MAX_PRI})`, base + 1);
  return { pri, end: match[0].length };
}

function parseLine(line: string, base: number): Omit<SyslogLine, 'truncated'> {
  const { pri, end } = readPri(line, base);
  const { facility, severity } = priorityOf(pri);
  const version = VERSION.exec(line.slice(end));
  if (version) {
    if (version[1] !== '1') throw new SyslogDecodeError(`RFC 5424 VERSION ${version[1]} is not supported (only 1)`, base + end);
    const fields = parseRfc5424(line, end + version[0].length, base);
    const { structuredData, ...rest } = fields;
    return { format: 'rfc5424', pri, facility, severity, ...rest, ...(structuredData.length > 0 && { structuredData }) };
  }
  return { format: 'rfc3164', pri, facility, severity, ...parseRfc3164(line, end) };
}

function finish(line: Omit<SyslogLine, 'truncated'>, maxLength: number): SyslogLine {
  const message = printable(line.message);
  if (message.length <= maxLength) return { ...line, message };
  return { ...line, message: `${message.slice(0, maxLength)}…`, truncated: true };
}

/** RFC 6587 octet counting (`92 <13>1 ...`) belongs to TCP, but `logger --octet-count --udp` sends it. */
function octetCountPrefix(text: string, byteLength: number): number {
  const match = /^(\d{1,5}) </.exec(text);
  if (!match) return 0;
  const prefix = match[1]!.length + 1;
  return Number(match[1]) === byteLength - prefix ? prefix : 0;
}

/** Throws SyslogDecodeError (with the offset) when the datagram is not syslog. */
export function decodeSyslog(datagram: Uint8Array, options: DecodeOptions = {}): SyslogLine[] {
  const maxLength = options.maxMessageLength ?? DEFAULT_MAX_MESSAGE;
  if (datagram.length === 0) throw new SyslogDecodeError('empty datagram', 0);
  const text = decoder.decode(datagram);
  const skip = octetCountPrefix(text, datagram.length);

  const lines: SyslogLine[] = [];
  let current: Omit<SyslogLine, 'truncated'> | undefined;
  // NUL ends a line too: some embedded senders terminate their C strings on the wire.
  const pattern = /[^\r\n\0]*/g;
  pattern.lastIndex = skip;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    const raw = match[0];
    const base = match.index;
    if (raw.length === 0) {
      if (pattern.lastIndex >= text.length) break;
      pattern.lastIndex += 1;
      continue;
    }
    if (raw.trim() === '') continue;
    if (!current) {
      current = parseLine(raw, base);
      lines.push(finish(current, maxLength));
      continue;
    }
    if (PRI_START.test(raw)) {
      try {
        current = parseLine(raw, base);
        lines.push(finish(current, maxLength));
        continue;
      } catch {
        // A later line that only looks like a header is text of the message before it.
      }
    }
    const { format, pri, facility, severity, hostname, app, procId } = current;
    const continued = {
      format,
      pri,
      facility,
      severity,
      ...(hostname !== undefined && { hostname }),
      ...(app !== undefined && { app }),
      ...(procId !== undefined && { procId }),
      message: raw,
    };
    lines.push(finish(continued, maxLength));
  }
  if (!current) throw new SyslogDecodeError('datagram has no text (only spaces, line breaks or NULs)', 0);
  return lines;
}
