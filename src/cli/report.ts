/**
 * `pxedeck report MAC`: one machine's story from the event log, after the fact. The events are replayed
 * through a fresh ClientRegistry, the same fold the live console uses, so the stage path printed here is
 * the one the console showed; events known only by IP are attributed the way the registry attributes them.
 */
import { parseArgs } from 'node:util';
import { parseMac, type Mac } from '../protocol/mac.js';
import type { DiagnosisEvent, PxedeckEvent } from '../servers/events.js';
import { eventLogDir, eventLogFiles, streamEvents } from '../state/event-log.js';
import type { ClientRecord } from '../state/client-record.js';
import { ClientRegistry } from '../state/registry.js';
import type { BootStage } from '../state/stages.js';
import { UsageError } from './args.js';
import { describeEvent } from '../state/event-words.js';
import { terminalJson, terminalLines } from '../state/terminal-text.js';

export const reportUsage = `Usage: pxedeck report MAC [--data-dir DIR] [--json]

One machine's timeline from the event log in DIR/events: each boot cycle's stages with the time each
took, the last boot file, script and download, pxedeck's diagnoses, then every event (UTC).
  --json   the same as one JSON object, with every event (progress events included)
`;

export interface StageTiming {
  readonly stage: BootStage;
  readonly at: number;
  /** Until the next stage; absent for the cycle's last stage. */
  readonly tookMs?: number;
}

export interface BootCycle {
  readonly number: number;
  readonly startedAt: number;
  /** The cycle's last event: how long its last stage lasted, as far as the log knows. */
  readonly lastEventAt: number;
  readonly stages: readonly StageTiming[];
}

/** What the record says of the machine itself, then its boot history as the report reads it. */
export interface MachineReport extends Pick<ClientRecord, 'mac' | 'ip' | 'firmware' | 'firstSeen' | 'lastSeen' | 'stage'> {
  readonly cycles: readonly BootCycle[];
  readonly lastBootFile?: { readonly file: string; readonly at: number; readonly messageType: string };
  readonly lastScript?: { readonly method: string; readonly path: string; readonly status: number; readonly at: number };
  readonly lastDownload?: {
    readonly file: string;
    readonly source: string;
    readonly bytes: number;
    readonly size?: number;
    readonly outcome: 'done' | 'error';
    readonly error?: string;
    readonly at: number;
  };
  readonly diagnoses: readonly DiagnosisEvent[];
  readonly events: readonly PxedeckEvent[];
}

export interface ReportScan {
  readonly report?: MachineReport;
  readonly files: number;
  readonly eventsRead: number;
  readonly skippedLines: number;
  /** Other machines in the log, for the "not found" hint. */
  readonly macsSeen: readonly Mac[];
}

function cycleOf(record: ClientRecord, lastEventAt: number): BootCycle {
  const stages = record.path.map((step, index) => {
    const next = record.path[index + 1];
    return { stage: step.stage, at: step.at, ...(next && { tookMs: next.at - step.at }) };
  });
  return { number: record.cycles, startedAt: record.path[0]?.at ?? record.firstSeen, lastEventAt, stages };
}

export async function scanMachine(dataDir: string, mac: Mac): Promise<ReportScan> {
  const files = (await eventLogFiles(dataDir)).length;
  // A replay of the whole log for one machine: forgetting it halfway would split its history, and the log itself
  // is bounded (its files rotate), so the running registry's bounds are off here.
  const registry = new ClientRegistry({ limits: { maxClients: Infinity, maxEvents: Infinity } });
  const events: PxedeckEvent[] = [];
  const cycles: BootCycle[] = [];
  const macsSeen = new Set<Mac>();
  let eventsRead = 0;
  let skippedLines = 0;
  let previous: ClientRecord | undefined;
  let lastEventAt = 0;
  let lastBootFile: MachineReport['lastBootFile'];
  let lastScript: MachineReport['lastScript'];
  let lastDownload: MachineReport['lastDownload'];

  for await (const event of streamEvents(dataDir, {}, { onSkipped: () => (skippedLines += 1) })) {
    eventsRead += 1;
    const owner = event.mac ?? (event.ip ? registry.macForIp(event.ip) : undefined);
    registry.apply(event);
    // The replay re-diagnoses as it goes; the report shows the verdicts the running pxedeck logged.
    registry.takeNewVerdicts();
    if (owner) macsSeen.add(owner);
    if (owner !== mac) continue;
    events.push(event);
    const record = registry.get(mac);
    if (previous && record && record.cycles !== previous.cycles) cycles.push(cycleOf(previous, lastEventAt));
    previous = record;
    lastEventAt = event.time;
    if (event.kind === 'dhcp.sent' && event.bootFile) lastBootFile = { file: event.bootFile, at: event.time, messageType: event.messageType };
    if (event.kind === 'http.request' && (event.route === 'script' || event.route === 'boot-script')) {
      lastScript = { method: event.method, path: event.path, status: event.status, at: event.time };
    }
    if (event.kind === 'transfer.done' || event.kind === 'transfer.error') {
      lastDownload = {
        file: event.file,
        source: event.source,
        bytes: event.bytes,
        ...(event.size !== undefined && { size: event.size }),
        outcome: event.kind === 'transfer.done' ? 'done' : 'error',
        ...(event.error && { error: event.error }),
        at: event.time,
      };
    }
  }
  macsSeen.delete(mac);
  const scan = { files, eventsRead, skippedLines, macsSeen: [...macsSeen] };
  if (!previous) return scan;
  cycles.push(cycleOf(previous, lastEventAt));
  const report: MachineReport = {
    mac,
    ...(previous.ip && { ip: previous.ip }),
    ...(previous.firmware && { firmware: previous.firmware }),
    firstSeen: previous.firstSeen,
    lastSeen: previous.lastSeen,
    stage: previous.stage,
    cycles,
    ...(lastBootFile && { lastBootFile }),
    ...(lastScript && { lastScript }),
    ...(lastDownload && { lastDownload }),
    diagnoses: events.filter((event): event is DiagnosisEvent => event.kind === 'client.diagnosis'),
    events,
  };
  return { ...scan, report };
}

const clock = (time: number) => new Date(time).toISOString().slice(11, 23);
const day = (time: number) => new Date(time).toISOString().slice(0, 10);

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

const PROGRESS = new Set<string>(['transfer.progress', 'upstream.progress']);

export function formatReport(report: MachineReport): string {
  const lines: string[] = [];
  const span = report.lastSeen - report.firstSeen;
  lines.push(`Machine     ${report.mac}${report.ip ? `  ${report.ip}` : ''}${report.firmware ? `  ${report.firmware}` : ''}`);
  lines.push(
    `Seen        ${day(report.firstSeen)} ${clock(report.firstSeen)} → ${day(report.lastSeen) === day(report.firstSeen) ? '' : `${day(report.lastSeen)} `}${clock(report.lastSeen)} UTC (${formatDuration(span)}), ` +
      `${report.cycles.length} boot cycle${report.cycles.length === 1 ? '' : 's'}, last stage: ${report.stage}`,
  );
  if (report.lastBootFile) lines.push(`Boot file   ${report.lastBootFile.file} (DHCP ${report.lastBootFile.messageType}, ${clock(report.lastBootFile.at)})`);
  if (report.lastScript) lines.push(`Script      ${report.lastScript.method} ${report.lastScript.path} → ${report.lastScript.status} (${clock(report.lastScript.at)})`);
  if (report.lastDownload) {
    const download = report.lastDownload;
    const amount = download.size !== undefined && download.size !== download.bytes ? `${formatBytes(download.bytes)} of ${formatBytes(download.size)}` : formatBytes(download.bytes);
    lines.push(`Download    ${download.file} over ${download.source}, ${amount}, ${download.outcome}${download.error ? `: ${download.error}` : ''} (${clock(download.at)})`);
  }

  for (const cycle of report.cycles) {
    lines.push('', `Boot cycle ${cycle.number} (${day(cycle.startedAt)})`);
    cycle.stages.forEach((step, index) => {
      const isLast = index === cycle.stages.length - 1;
      const took = step.tookMs !== undefined ? formatDuration(step.tookMs) : isLast ? `last stage, ${formatDuration(cycle.lastEventAt - step.at)} to the cycle's last event` : '';
      lines.push(`  ${clock(step.at)}  ${step.stage.padEnd(9)} ${took}`);
    });
  }

  if (report.diagnoses.length > 0) {
    lines.push('', 'Diagnosis');
    for (const verdict of report.diagnoses) {
      lines.push(`  ${clock(verdict.time)}  ${verdict.severity.toUpperCase()} ${verdict.verdict}: ${verdict.summary}`);
      lines.push(`                cause: ${verdict.cause}`);
      lines.push(`                fix:   ${verdict.fix}`);
    }
  }

  const shown = report.events.filter((event) => !PROGRESS.has(event.kind));
  const hidden = report.events.length - shown.length;
  lines.push('', `Timeline (UTC${hidden > 0 ? `; ${hidden} progress events left out, --json has them` : ''})`);
  let currentDay = '';
  for (const event of shown) {
    if (day(event.time) !== currentDay) {
      currentDay = day(event.time);
      lines.push(currentDay);
    }
    lines.push(`  ${clock(event.time)}  ${event.source.padEnd(7)} ${describeEvent(event)}`);
  }
  return lines.join('\n');
}

export interface ReportResult {
  readonly output: string;
  readonly exitCode: number;
}

/** `pxedeck report ...` after the subcommand name; throws UsageError for a bad command line. */
export async function runReport(argv: readonly string[], defaultDataDir: string): Promise<ReportResult> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: { 'data-dir': { type: 'string' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${reportUsage}`);
  }
  const { values, positionals } = parsed;
  if (values.help) return { output: reportUsage, exitCode: 0 };
  if (positionals.length !== 1) throw new UsageError(`give one MAC address${positionals.length > 1 ? `, not ${positionals.length}` : ''}\n${reportUsage}`);
  const mac = parseMac(positionals[0]!);
  if (!mac) throw new UsageError(`"${positionals[0]}" is not a MAC address; use the form 52:54:00:12:34:56`);
  const dataDir = values['data-dir'] ?? defaultDataDir;

  const scan = await scanMachine(dataDir, mac);
  const where = eventLogDir(dataDir);
  if (scan.files === 0) {
    return { output: `no event log in ${where}: pxedeck writes one there while it runs (is this the --data-dir it ran with?)`, exitCode: 1 };
  }
  if (!scan.report) {
    const others = scan.macsSeen.length > 0 ? `; machines in the log: ${scan.macsSeen.slice(0, 10).join(', ')}${scan.macsSeen.length > 10 ? ', …' : ''}` : '';
    return { output: `no events for ${mac} in ${where} (${scan.eventsRead} events in ${scan.files} file${scan.files === 1 ? '' : 's'})${others}`, exitCode: 1 };
  }
  if (values.json) return { output: terminalJson(scan.report, 2), exitCode: 0 };
  const header = `${scan.eventsRead} events read from ${where} (${scan.files} file${scan.files === 1 ? '' : 's'}${scan.skippedLines > 0 ? `, ${scan.skippedLines} unreadable lines skipped` : ''})`;
  // Every line, not only the events': the summary above the timeline quotes what machines sent too.
  return { output: terminalLines(`${formatReport(scan.report)}\n\n${header}`), exitCode: 0 };
}
