/** The last two lines: the latest message (or the filter being typed), then the keys for what is on screen. */
import { Box, Text } from 'ink';
import { fit } from './model/format.js';
import type { ConsoleMessage } from './use-console-state.js';

export interface FooterProps {
  readonly keys: string;
  readonly message?: ConsoleMessage;
  readonly filter?: { readonly text: string; readonly isEditing: boolean };
  readonly width: number;
}

export function Footer(props: FooterProps) {
  const width = props.width - 1;
  return (
    <Box flexDirection="column">
      {props.filter?.isEditing ? (
        <Text wrap="truncate">
          {'/'}
          {props.filter.text}
          <Text inverse> </Text>
          <Text dimColor>{'   Enter keep  Esc clear'}</Text>
        </Text>
      ) : (
        <Text wrap="truncate" color={props.message?.level === 'error' ? 'red' : 'green'}>
          {fit(props.message?.text ?? '', width)}
        </Text>
      )}
      <Text wrap="truncate" dimColor>
        {fit(props.keys, width)}
      </Text>
    </Box>
  );
}
