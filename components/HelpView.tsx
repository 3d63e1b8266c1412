/** The full key list (`?`), from the same table the footer uses. Any key closes it. */
import { Box, Text } from 'ink';
import { detailKeys, pickerKeys, tableKeys, type KeyHelp } from './model/key-help.js';
import { fit } from './model/format.js';

export interface HelpViewProps {
  readonly height: number;
  readonly width: number;
}

function section(title: string, keys: readonly KeyHelp[], width: number): Array<{ text: string; bold?: boolean }> {
  return [{ text: title, bold: true }, ...keys.map((key) => ({ text: fit(`  ${key.keys.padEnd(18)} ${key.action}`, width) }))];
}

export function HelpView(props: HelpViewProps) {
  const width = props.width - 1;
  const lines = [
    ...section('Table', tableKeys, width),
    { text: '' },
    ...section('Details (Enter)', detailKeys, width),
    { text: '' },
    ...section('Profile picker', pickerKeys, width),
    { text: '' },
    { text: 'Reading the table', bold: true },
    { text: fit('  BOOTS      what the machine gets on its next request; (menu default) in brackets: the default for unknown machines', width) },
    { text: fit('  STATUS     waiting · held · booting · stalled · LOOP · failed · done · ignored; the detail says why and the fix', width) },
    { text: fit('  PATH       DHCP NBP PXELINUX iPXE script kernel initrd booted installed: ● reached, ◦ skipped, · ahead', width) },
  ];
  const room = props.height - 1;
  return (
    <Box flexDirection="column" height={props.height}>
      {lines.slice(0, room).map((line, index) => (
        <Text key={index} bold={line.bold ?? false} wrap="truncate">
          {line.text || ' '}
        </Text>
      ))}
      <Box flexGrow={1} />
      <Text dimColor>{lines.length > room ? 'more keys on a taller terminal — any key closes' : 'any key closes'}</Text>
    </Box>
  );
}
