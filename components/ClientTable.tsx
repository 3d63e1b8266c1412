/**
 * The client table: a title row and one line per machine in the visible window. Only the window is
 * drawn, so 500 machines cost no more per frame than a screenful. Each line is one Text of fixed-width
 * cells (see model/columns.ts), coloured per cell.
 */
import { Box, Text } from 'ink';
import type { Mac } from '../src/protocol/mac.js';
import type { ClientRow } from './model/client-rows.js';
import { progressOf, type StatusBadge } from './model/client-status.js';
import { cellText, headerText, progressCell, type Column } from './model/columns.js';

export const badgeColors: Record<StatusBadge, string> = {
  waiting: 'gray',
  held: 'yellow',
  booting: 'cyan',
  stalled: 'yellow',
  LOOP: 'magenta',
  failed: 'red',
  done: 'green',
  ignored: 'gray',
};

export interface ClientTableProps {
  readonly rows: readonly ClientRow[];
  readonly columns: readonly Column[];
  readonly cursor: Mac | undefined;
  readonly marks: ReadonlySet<Mac>;
  readonly height: number;
  readonly now: number;
  readonly emptyText?: string;
}

/** First index of the window that keeps the cursor visible, moving as little as possible. */
export function scrollWindow(previousOffset: number, cursorIndex: number, height: number, total: number): number {
  if (height <= 0 || total <= height) return 0;
  let offset = Math.min(previousOffset, total - height);
  if (cursorIndex < offset) offset = cursorIndex;
  else if (cursorIndex >= offset + height) offset = cursorIndex - height + 1;
  return Math.max(0, offset);
}

/**
 * One row as few Text segments as possible (plain text, the bar, the badge): under load Ink measures and
 * styles every segment of every line on every frame.
 */
function Row(props: { readonly row: ClientRow; readonly columns: readonly Column[]; readonly isCursor: boolean; readonly isMarked: boolean; readonly now: number }) {
  const { row, columns, isCursor, isMarked, now } = props;
  const segments: Array<{ text: string; color?: string; bold?: boolean }> = [];
  let plain = '';
  columns.forEach((column, index) => {
    const gap = index > 0 ? ' ' : '';
    if (column.id === 'progress') {
      const cell = progressCell(progressOf(row.record), column.width);
      segments.push({ text: plain + gap });
      segments.push({ text: cell.bar, color: row.record.transfer?.done ? 'green' : 'cyan' });
      plain = cell.rest;
    } else if (column.id === 'status') {
      segments.push({ text: plain + gap });
      segments.push({ text: cellText(column, row, now, isMarked, isCursor), color: badgeColors[row.status.badge], bold: row.status.badge === 'LOOP' || row.status.badge === 'failed' });
      plain = '';
    } else plain += gap + cellText(column, row, now, isMarked, isCursor);
  });
  if (plain) segments.push({ text: plain });
  return (
    <Text wrap="truncate" inverse={isCursor}>
      {segments.map((segment, index) =>
        segment.color ? (
          <Text key={index} color={segment.color} bold={segment.bold ?? false}>
            {segment.text}
          </Text>
        ) : (
          segment.text
        ),
      )}
    </Text>
  );
}

export function ClientTable(props: ClientTableProps) {
  const { rows, columns } = props;
  const filler = Math.max(0, props.height - rows.length);
  return (
    <Box flexDirection="column">
      <Text wrap="truncate" bold>
        {headerText(columns)}
      </Text>
      {rows.length === 0 ? (
        <Text dimColor wrap="truncate">
          {props.emptyText ?? '  no machine has asked yet: power one on with network boot first'}
        </Text>
      ) : null}
      {rows.map((row) => (
        <Row key={row.mac} row={row} columns={columns} isCursor={row.mac === props.cursor} isMarked={props.marks.has(row.mac)} now={props.now} />
      ))}
      {filler > (rows.length === 0 ? 1 : 0) ? <Box height={filler - (rows.length === 0 ? 1 : 0)} /> : null}
    </Box>
  );
}
