/**
 * The selected machine under the table: who it is, its stage path with the time each step took, what
 * it boots, the diagnosis, and its latest events. `height` lines exactly, so the table above never jumps.
 */
import { Box, Text } from 'ink';
import type { ClientRow } from './model/client-rows.js';
import { firmwareChain, progressOf } from './model/client-status.js';
import { eventSummary, sourceLabels } from './model/event-text.js';
import { fit, formatBytes, formatClock, formatEta, formatRate } from './model/format.js';
import { stagePathText } from './model/report.js';
import { badgeColors } from './ClientTable.js';

export interface DetailPaneProps {
  readonly row: ClientRow | undefined;
  readonly variables: Readonly<Record<string, string>>;
  readonly height: number;
  readonly width: number;
  readonly now: number;
}

export function downloadText(row: ClientRow): string | undefined {
  const progress = progressOf(row.record);
  if (!progress) return undefined;
  const size = progress.size ? ` of ${formatBytes(progress.size)}` : '';
  if (progress.done) return `last download: ${progress.source.toUpperCase()} ${progress.file} ${formatBytes(progress.bytes)}${size}`;
  const percent = progress.fraction !== undefined ? ` ${Math.floor(progress.fraction * 100)}%` : '';
  return `downloading ${progress.source.toUpperCase()} ${progress.file} ${formatBytes(progress.bytes)}${size}${percent}${progress.rate ? ` at ${formatRate(progress.rate)}` : ''}, ETA ${formatEta(progress.etaSeconds)}`;
}

export function DetailPane(props: DetailPaneProps) {
  const { row, height } = props;
  const width = props.width - 1;
  if (height <= 0) return null;
  if (!row) {
    return (
      <Box flexDirection="column" height={height}>
        <Text dimColor>{fit('─ no machine selected', width)}</Text>
      </Box>
    );
  }
  const { record } = row;
  const variables = Object.entries(props.variables).map(([name, value]) => `${name}=${value}`).join(' ');
  const lines: Array<{ readonly text: string; readonly color?: string; readonly dim?: boolean; readonly bold?: boolean }> = [
    {
      text: `─ ${record.mac}  ${row.vendor || 'unknown vendor'}  ${record.ip ?? 'no IP yet'}  ${firmwareChain(record)}  cycle ${record.cycles} ${'─'.repeat(width)}`,
      bold: true,
    },
    { text: `path   ${stagePathText(record, props.now)}` },
  ];
  // What is wrong comes before what it boots (the table shows that already): on 24 rows only three lines fit.
  if (row.status.diagnosis) lines.push({ text: `${row.status.badge.padEnd(6)} ${row.status.diagnosis}`, color: badgeColors[row.status.badge] });
  lines.push({ text: `boots  ${row.target}${variables ? `  ·  ${variables}` : ''}` });
  const download = downloadText(row);
  if (download) lines.push({ text: download, dim: true });
  const room = height - lines.length;
  if (room > 0) {
    for (const event of record.timeline.slice(-room)) {
      lines.push({ text: `${formatClock(event.time)} ${sourceLabels[event.source].padEnd(6)} ${eventSummary(event)}`, dim: true });
    }
  }
  return (
    <Box flexDirection="column" height={height}>
      {lines.slice(0, height).map((line, index) => (
        <Text key={index} wrap="truncate" {...(line.color && { color: line.color })} dimColor={line.dim ?? false} bold={line.bold ?? false}>
          {fit(line.text, width)}
        </Text>
      ))}
    </Box>
  );
}
