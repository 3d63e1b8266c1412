/**
 * One machine full-screen: the stage path with times, the diagnosis, and three tabs — the event timeline
 * across DHCP, 4011, TFTP, HTTP and syslog with decoded fields, the exact iPXE script it gets, and its
 * PXELINUX config. `DetailScreen` wires the state and input hooks; `DetailBody` only renders.
 */
import { Box, Text } from 'ink';
import type { RenderResult } from '../src/boot/ipxe-script.js';
import type { ClientRow } from './model/client-rows.js';
import { firmwareChain } from './model/client-status.js';
import { eventDetail, eventSummary, sourceLabels } from './model/event-text.js';
import { fit, formatClockMs } from './model/format.js';
import { stagePathText } from './model/report.js';
import { badgeColors } from './ClientTable.js';
import { downloadText } from './DetailPane.js';
import type { OperatorKeyHandlers } from './use-console-input.js';
import { useDetailInput } from './use-detail-input.js';
import { detailTabs, useDetailState, visibleStart, type DetailTab } from './use-detail-state.js';

export interface DetailContent {
  readonly row: ClientRow;
  readonly variables: Readonly<Record<string, string>>;
  readonly script: RenderResult;
  readonly pxelinux: string | null;
  /** What GRUB reads on the Secure Boot chain. */
  readonly grub?: string | null;
}

interface Line {
  readonly text: string;
  readonly dim?: boolean;
  readonly color?: string;
}

const tabTitles: Readonly<Record<DetailTab, string>> = { timeline: 'timeline', script: 'iPXE script', pxelinux: 'PXELINUX config', grub: 'GRUB config' };

export function tabLines(tab: DetailTab, content: DetailContent): Line[] {
  if (tab === 'script') {
    const { script } = content;
    const text = script.ok ? script.text : `# the server answers ${script.status}: ${script.message}`;
    return text.trimEnd().split('\n').map((line) => ({ text: line }));
  }
  if (tab === 'grub') {
    return (content.grub ?? '(no GRUB config)').trimEnd().split('\n').map((line) => ({ text: line }));
  }
  if (tab === 'pxelinux') {
    return (content.pxelinux ?? '(no PXELINUX config: this machine is not on the PXELINUX path)').trimEnd().split('\n').map((line) => ({ text: line }));
  }
  const lines: Line[] = [];
  for (const event of content.row.record.timeline) {
    const isError = event.kind === 'transfer.error' || event.kind === 'transfer.refused' || event.kind === 'dhcp.ignored' || (event.kind === 'http.request' && event.status >= 400);
    lines.push({ text: `${formatClockMs(event.time)} ${sourceLabels[event.source].padEnd(6)} ${eventSummary(event)}`, ...(isError && { color: 'red' }) });
    const detail = eventDetail(event);
    if (detail) lines.push({ text: `${' '.repeat(20)}${detail}`, dim: true });
  }
  if (lines.length === 0) lines.push({ text: 'no events kept for this machine', dim: true });
  return lines;
}

export interface DetailBodyProps {
  readonly content: DetailContent;
  readonly tab: DetailTab;
  readonly lines: readonly Line[];
  readonly start: number;
  readonly bodyHeight: number;
  readonly width: number;
  readonly now: number;
}

/** Lines above the tab body: title, path, boots, diagnosis or download, tab bar. */
export const DETAIL_HEAD_LINES = 5;

export function DetailBody(props: DetailBodyProps) {
  const { row } = props.content;
  const { record } = row;
  const width = props.width - 1;
  const variables = Object.entries(props.content.variables).map(([name, value]) => `${name}=${value}`).join(' ');
  const status = row.status.diagnosis ? `${row.status.badge}: ${row.status.diagnosis}` : downloadText(row) ?? `${row.status.badge}`;
  const shown = props.lines.slice(props.start, props.start + props.bodyHeight);
  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate">
        {fit(`${record.mac}  ${row.vendor || 'unknown vendor'}  ${record.ip ?? 'no IP yet'}  ${firmwareChain(record)}  boot cycle ${record.cycles}`, width)}
      </Text>
      <Text wrap="truncate">{fit(`path   ${stagePathText(record, props.now)}`, width)}</Text>
      <Text wrap="truncate">{fit(`boots  ${row.target}${variables ? `  ·  ${variables}` : ''}`, width)}</Text>
      <Text wrap="truncate" color={badgeColors[row.status.badge]}>
        {fit(status, width)}
      </Text>
      <Text wrap="truncate">
        {detailTabs.map((tab) => (
          <Text key={tab} inverse={tab === props.tab}>
            {` ${tabTitles[tab]} `}
          </Text>
        ))}
        <Text dimColor>{`  ${props.lines.length > props.bodyHeight ? `${props.start + 1}–${props.start + shown.length} of ${props.lines.length}` : ''}`}</Text>
      </Text>
      <Box flexDirection="column" height={props.bodyHeight}>
        {shown.map((line, index) => (
          <Text key={props.start + index} wrap="truncate" dimColor={line.dim ?? false} {...(line.color && { color: line.color })}>
            {fit(line.text, width)}
          </Text>
        ))}
      </Box>
    </Box>
  );
}

export interface DetailScreenProps extends OperatorKeyHandlers {
  readonly content: DetailContent;
  readonly width: number;
  readonly height: number;
  readonly now: number;
  readonly isActive: boolean;
  onBack(): void;
  onQuit(): void;
}

export function DetailScreen(props: DetailScreenProps) {
  const [state, dispatch] = useDetailState();
  const lines = tabLines(state.tab, props.content);
  const bodyHeight = Math.max(1, props.height - DETAIL_HEAD_LINES);
  const start = visibleStart(state, lines.length, bodyHeight);
  useDetailInput({ ...props, dispatch, total: lines.length, height: bodyHeight, start });
  return <DetailBody content={props.content} tab={state.tab} lines={lines} start={start} bodyHeight={bodyHeight} width={props.width} now={props.now} />;
}
