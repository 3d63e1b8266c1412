/**
 * A machine's report as plain text for a file or a ticket: who it is, what it boots, the stage path with
 * times, the diagnosis, every kept event with its decoded packet fields, and the scripts it gets.
 */
import type { Assignment, BootTarget } from '../../src/boot/boot-target.js';
import type { RenderResult } from '../../src/boot/ipxe-script.js';
import type { ClientRecord } from '../../src/state/client-record.js';
import { firmwareChain, type ClientStatus } from './client-status.js';
import { eventDetail, eventSummary, sourceLabels } from './event-text.js';
import { formatBytes, formatDuration, formatElapsed } from './format.js';
import { handedOffAt, stageLabels, stageSentence } from './stage-view.js';

export interface ReportInput {
  readonly record: ClientRecord;
  readonly vendor: string;
  readonly status: ClientStatus;
  readonly target: BootTarget;
  readonly assignment: Assignment | undefined;
  readonly ipxeScript: RenderResult;
  readonly pxelinuxConfig: string | null;
  readonly grubConfig?: string | null;
  readonly generatedAt: number;
  /** "proxy on eth1 (10.0.0.1)". */
  readonly server: string;
}

/**
 * "DHCP 1.2s → NBP 0.8s → iPXE …": each step with the time it took until the next one. A machine handed to its
 * kernel ends with "handed off 3m ago" (the "booted" step is that handoff).
 */
export function stagePathText(record: ClientRecord, now: number): string {
  const handoff = handedOffAt(record, now);
  const steps = record.path
    .filter((step, index) => !(handoff !== undefined && step.stage === 'booted' && index === record.path.length - 1))
    .map((step, index, kept) => {
      const next = kept[index + 1];
      const took = (next ? next.at : (handoff ?? now)) - step.at;
      const isCurrent = !next && handoff === undefined && record.stage !== 'booted' && record.stage !== 'installed';
      return `${stageLabels[step.stage]} ${next || handoff !== undefined ? formatDuration(took) : isCurrent ? `${formatElapsed(took)}…` : ''}`.trim();
    });
  if (handoff !== undefined) steps.push(stageSentence(record, now));
  return steps.join(' → ');
}

const iso = (time: number) => new Date(time).toISOString();

export function buildReport(input: ReportInput): string {
  const { record } = input;
  const lines = [
    `pxedeck report for ${record.mac}`,
    `generated ${iso(input.generatedAt)} by pxedeck (${input.server})`,
    '',
    `MAC          ${record.mac}`,
    `vendor       ${input.vendor || 'unknown'}`,
    `IP           ${record.ip ?? '-'}`,
    `firmware     ${firmwareChain(record)}`,
    `first seen   ${iso(record.firstSeen)}`,
    `last seen    ${iso(record.lastSeen)}`,
    `boot cycles  ${record.cycles}`,
    `stage        ${stageSentence(record, input.generatedAt)}`,
    `stage path   ${stagePathText(record, input.generatedAt)}`,
    `status       ${input.status.badge}${input.status.diagnosis ? ` — ${input.status.diagnosis}` : ''}`,
    `boots        ${JSON.stringify(input.target)}`,
    `assignment   ${input.assignment ? JSON.stringify(input.assignment) : 'none (follows the default)'}`,
  ];
  if (record.transfer) {
    const t = record.transfer;
    lines.push(`last download ${t.source} ${t.file} ${formatBytes(t.bytes)}${t.size ? ` of ${formatBytes(t.size)}` : ''}${t.done ? ' (finished)' : ''}`);
  }
  if (record.lastIgnoredReason) lines.push(`last ignored ${record.lastIgnoredReason}`);
  lines.push('', `timeline (${record.timeline.length} events kept)`);
  for (const event of record.timeline) {
    lines.push(`${iso(event.time)} ${sourceLabels[event.source].padEnd(6)} ${eventSummary(event)}`);
    const detail = eventDetail(event);
    if (detail) lines.push(`${' '.repeat(32)}${detail}`);
    if (event.kind === 'dhcp.received' || event.kind === 'dhcp.sent') {
      lines.push(`${' '.repeat(32)}xid ${event.xid.toString(16)} peer ${event.peer}${event.interface ? ` on ${event.interface}` : ''}`);
    }
  }
  lines.push('', 'iPXE script (GET /ipxe?mac=…):');
  lines.push(input.ipxeScript.ok ? input.ipxeScript.text.trimEnd() : `error ${input.ipxeScript.status}: ${input.ipxeScript.message}`);
  lines.push('', 'PXELINUX config (pxelinux.cfg/01-…):');
  lines.push(input.pxelinuxConfig?.trimEnd() ?? '(none)');
  if (input.grubConfig !== undefined) lines.push('', 'GRUB config (grub/grub.cfg, the Secure Boot chain):', input.grubConfig?.trimEnd() ?? '(none)');
  return `${lines.join('\n')}\n`;
}
