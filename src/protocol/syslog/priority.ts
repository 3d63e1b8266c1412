/** The PRI field: facility × 8 + severity (RFC 5424 §6.2.1; RFC 3164 §4.1.1 uses the same numbers). */

/** Keywords as syslog.conf and logger(1) spell them, indexed by code. */
export const SEVERITIES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'] as const;
export type SyslogSeverity = (typeof SEVERITIES)[number];

export const FACILITIES = [
  'kern',
  'user',
  'mail',
  'daemon',
  'auth',
  'syslog',
  'lpr',
  'news',
  'uucp',
  'cron',
  'authpriv',
  'ftp',
  'ntp',
  'security',
  'console',
  'clock',
  'local0',
  'local1',
  'local2',
  'local3',
  'local4',
  'local5',
  'local6',
  'local7',
] as const;
export type SyslogFacility = (typeof FACILITIES)[number];

export const MAX_PRI = FACILITIES.length * 8 - 1;

export interface Priority {
  readonly pri: number;
  readonly facility: SyslogFacility;
  readonly severity: SyslogSeverity;
}

export function priorityOf(pri: number): Priority {
  if (!Number.isInteger(pri) || pri < 0 || pri > MAX_PRI) throw new RangeError(`PRI ${pri} is out of range (0-${MAX_PRI})`);
  return { pri, facility: FACILITIES[pri >> 3]!, severity: SEVERITIES[pri & 7]! };
}

/** Lower is more urgent: `severityRank('err') < severityRank('info')`. */
export function severityRank(severity: SyslogSeverity): number {
  return SEVERITIES.indexOf(severity);
}
