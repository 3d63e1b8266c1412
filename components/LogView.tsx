/** The system log (`L`): notices, server states and errors, foreign DHCP servers, operator actions. */
import { Box, Text } from 'ink';
import type { SystemNote } from './model/console-feed.js';
import { fit, formatClock } from './model/format.js';

export interface LogViewProps {
  readonly notes: readonly SystemNote[];
  readonly height: number;
  readonly width: number;
}

const colors = { info: undefined, warning: 'yellow', error: 'red' } as const;

export function LogView(props: LogViewProps) {
  const room = Math.max(1, props.height - 2);
  const shown = props.notes.slice(-room);
  return (
    <Box flexDirection="column" height={props.height}>
      <Text bold color="cyan">{`System log (${props.notes.length} entries, newest last)`}</Text>
      {shown.map((note, index) => (
        <Text key={index} wrap="truncate" {...(colors[note.level] && { color: colors[note.level] })}>
          {fit(`${formatClock(note.time)} ${note.level.padEnd(7)} ${note.text}`, props.width - 1)}
        </Text>
      ))}
      <Box flexGrow={1} />
      <Text dimColor>any key closes</Text>
    </Box>
  );
}
