/**
 * Which columns the client table shows at a given width, and each cell's text. Every cell is cut or
 * padded to its width here, so a row is one line whatever a vendor name or file name holds, and the
 * layout at 80, 120 and 200 columns is decided in one table.
 */
import { bootStages, stageIndex, type BootStage } from '../../src/state/stages.js';
import type { ClientRow } from './client-rows.js';
import { progressOf, type ProgressView } from './client-status.js';
import { stageCell } from './stage-view.js';
import { fit, formatAgo, formatEta, formatRate } from './format.js';

export const columnIds = ['mark', 'mac', 'vendor', 'ip', 'firmware', 'stage', 'path', 'progress', 'target', 'status', 'seen'] as const;
export type ColumnId = (typeof columnIds)[number];

export interface Column {
  readonly id: ColumnId;
  readonly title: string;
  readonly width: number;
}

const titles: Record<ColumnId, string> = {
  mark: '',
  mac: 'MAC',
  vendor: 'VENDOR',
  ip: 'IP',
  firmware: 'FIRMWARE',
  stage: 'STAGE',
  path: 'PATH',
  progress: 'PROGRESS',
  target: 'BOOTS',
  status: 'STATUS',
  seen: 'SEEN',
};

/** Fixed widths per layout; `progress` takes what is left (within its bounds), then `target` grows. */
const layouts: ReadonlyArray<{ readonly minWidth: number; readonly fixed: Partial<Record<ColumnId, number>>; readonly progress: readonly [number, number] }> = [
  { minWidth: 180, fixed: { mark: 2, mac: 17, vendor: 22, ip: 15, firmware: 10, stage: 11, path: 10, target: 22, status: 7, seen: 4 }, progress: [24, 44] },
  { minWidth: 110, fixed: { mark: 2, mac: 17, vendor: 13, ip: 15, firmware: 8, stage: 11, target: 14, status: 7 }, progress: [18, 36] },
  { minWidth: 0, fixed: { mark: 2, mac: 17, firmware: 8, stage: 11, target: 12, status: 7 }, progress: [10, 30] },
];

/** Columns for a terminal `width` wide; the row stays one column short of the edge (no autowrap), and may end short of it on very wide terminals. */
export function tableColumns(width: number): Column[] {
  const layout = layouts.find((candidate) => width >= candidate.minWidth)!;
  const usable = Math.max(40, width - 1);
  const ids = columnIds.filter((id) => id === 'progress' || layout.fixed[id] !== undefined);
  const gaps = ids.length - 1;
  const fixedTotal = ids.reduce((sum, id) => sum + (layout.fixed[id] ?? 0), 0);
  const [minProgress, maxProgress] = layout.progress;
  const progress = Math.max(minProgress, Math.min(maxProgress, usable - fixedTotal - gaps));
  // What is left widens the boots column, then the vendor, each up to a useful width.
  let spare = Math.max(0, usable - fixedTotal - gaps - progress);
  const grow = (id: ColumnId, limit: number) => {
    const base = layout.fixed[id];
    if (base === undefined) return 0;
    const extra = Math.min(spare, Math.max(0, limit - base));
    spare -= extra;
    return extra;
  };
  const extra: Partial<Record<ColumnId, number>> = { target: grow('target', 34) };
  extra.vendor = grow('vendor', 32);
  return ids.map((id) => ({
    id,
    title: titles[id],
    width: id === 'progress' ? progress : layout.fixed[id]! + (extra[id] ?? 0),
  }));
}

/** The strip keeps one mark per place: the Secure Boot chain's shim and GRUB take the first and second loader's places. */
const stripStages = bootStages.filter((stage) => stage !== 'shim' && stage !== 'grub');
const stripSlot = (stage: BootStage): BootStage => (stage === 'shim' ? 'nbp' : stage === 'grub' ? 'pxelinux' : stage);

/** One mark per stage on the path: reached ●, skipped or ahead ·. */
export function pathStrip(row: ClientRow): string {
  const reached = new Set(row.record.path.map((step) => stripSlot(step.stage)));
  const now = stageIndex(stripSlot(row.record.stage));
  return stripStages.map((stage) => (reached.has(stage) ? '●' : stageIndex(stage) < now ? '◦' : '·')).join('');
}

/** "██████░░░░  45%  1.2M/s 0:03": bar first, the figures dropped from the right when the cell is narrow. */
export function progressCell(progress: ProgressView | undefined, width: number): { readonly bar: string; readonly rest: string; readonly text: string } {
  if (!progress) return { bar: '', rest: ' '.repeat(width), text: fit('', width) };
  const percent = progress.fraction !== undefined ? `${Math.floor(progress.fraction * 100)}%`.padStart(4) : '   ?';
  const rate = progress.done ? 'done' : progress.rate !== undefined ? formatRate(progress.rate) : '';
  const eta = progress.done ? '' : formatEta(progress.etaSeconds);
  const candidates = [` ${percent} ${rate.padStart(7)} ${eta.padStart(5)}`, ` ${percent} ${rate.padStart(7)}`, ` ${percent}`];
  const suffix = candidates.find((text) => width - text.length >= 6) ?? '';
  const barWidth = width - suffix.length;
  const filled = progress.fraction !== undefined ? Math.round(progress.fraction * barWidth) : 0;
  const bar = '█'.repeat(filled) + '░'.repeat(Math.max(0, barWidth - filled));
  return { bar, rest: suffix, text: bar + suffix };
}

export function cellText(column: Column, row: ClientRow, now: number, isMarked: boolean, isCursor: boolean): string {
  switch (column.id) {
    case 'mark':
      return `${isCursor ? '›' : ' '}${isMarked ? '*' : ' '}`;
    case 'mac':
      return fit(row.mac, column.width);
    case 'vendor':
      return fit(row.vendor, column.width);
    case 'ip':
      return fit(row.record.ip ?? '', column.width);
    case 'firmware':
      return fit(row.firmware, column.width);
    case 'stage':
      return fit(stageCell(row.record, now), column.width);
    case 'path':
      return fit(pathStrip(row), column.width);
    case 'progress':
      return progressCell(progressOf(row.record), column.width).text;
    case 'target':
      return fit(row.target, column.width);
    case 'status':
      return fit(row.status.badge, column.width);
    case 'seen':
      return fit(formatAgo(now - row.record.lastSeen), column.width, 'right');
  }
}

export function headerText(columns: readonly Column[]): string {
  return columns.map((column) => fit(column.title, column.width)).join(' ');
}
