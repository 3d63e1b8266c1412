/**
 * What the console's screen says that changes with the time alone, no event needed: the header's clock,
 * each machine's badge (a quiet machine turns "stalled", a finished download "done"), its age and its
 * stage cell ("handoff 3m"), and for the machine in focus its diagnosis and its path with durations.
 *
 * The console's clock tick draws a frame only when this reading differs from the one of the last frame
 * (use-now.ts). The console test "draws a frame when the time changes what the screen says" compares
 * the live console with one drawn for the same moment, so a time-dependent text added to a view without
 * being read here fails there.
 */
import type { Mac } from '../../src/protocol/mac.js';
import type { RegistrySnapshot } from '../../src/state/registry.js';
import { clientStatus } from './client-status.js';
import type { TargetSource } from './client-rows.js';
import { formatAgo, formatHourMinute } from './format.js';
import { stagePathText } from './report.js';
import { stageCell } from './stage-view.js';

export interface TimedScreen {
  readonly snapshot: RegistrySnapshot;
  readonly targets: Pick<TargetSource, 'target'>;
  /** The machine whose diagnosis and path are on screen (the cursor's), if any. */
  readonly focus?: Mac;
}

export function timeReading(screen: TimedScreen, now: number): string {
  const parts = [formatHourMinute(now)];
  // Every machine, not only the rows in view: the header counts badges, and a filter matches them.
  for (const record of screen.snapshot.clients.values()) {
    parts.push(`${clientStatus(record, screen.targets.target(record.mac), now, false).badge} ${formatAgo(now - record.lastSeen)} ${stageCell(record, now)}`);
  }
  const focused = screen.focus === undefined ? undefined : screen.snapshot.clients.get(screen.focus);
  if (focused) {
    const status = clientStatus(focused, screen.targets.target(focused.mac), now);
    parts.push(`${status.diagnosis ?? ''} ${stagePathText(focused, now)}`);
  }
  return parts.join('\n');
}
