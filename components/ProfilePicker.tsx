/**
 * Choose a profile or menu for the machines the action applies to: type to filter, arrows to choose,
 * Tab for "once, then the local disk", Enter to assign. `ProfilePicker` wires state and input;
 * `PickerBody` only renders.
 */
import { Box, Text } from 'ink';
import type { Choice } from '../src/state/operator.js';
import { fit } from './model/format.js';
import { footerLine, pickerKeys } from './model/key-help.js';
import { TextField } from './TextField.js';
import { usePickerInput } from './use-picker-input.js';
import { filterChoices, usePickerState, type PickerState } from './use-picker-state.js';

export interface PickerBodyProps {
  readonly list: 'profile' | 'menu';
  readonly machines: number;
  readonly state: PickerState;
  readonly shown: readonly Choice[];
  readonly height: number;
  readonly width: number;
}

export function PickerBody(props: PickerBodyProps) {
  const { state, shown } = props;
  const listHeight = Math.max(1, props.height - 4);
  const start = Math.max(0, Math.min(state.index - Math.floor(listHeight / 2), shown.length - listHeight));
  const window = shown.slice(start, start + listHeight);
  const width = props.width - 1;
  const idWidth = Math.min(24, Math.max(8, ...shown.map((choice) => choice.id.length)));
  return (
    <Box flexDirection="column" height={props.height}>
      <Text bold color="cyan" wrap="truncate">
        {`Assign a ${props.list} to ${props.machines === 1 ? '1 machine' : `${props.machines} machines`}`}
        {props.list === 'profile' ? <Text color={state.isOnce ? 'yellow' : 'gray'}>{state.isOnce ? '   [x] once, then the local disk' : '   [ ] once'}</Text> : null}
      </Text>
      <Text wrap="truncate">
        {'filter: '}
        <TextField value={state.query} isFocused placeholder="" />
      </Text>
      {window.length === 0 ? <Text dimColor>{`  no ${props.list} matches "${state.query}"`}</Text> : null}
      {window.map((choice, offset) => {
        const isCurrent = start + offset === state.index;
        return (
          <Text key={choice.id} inverse={isCurrent} wrap="truncate">
            {fit(`${isCurrent ? '›' : ' '} ${choice.id.padEnd(idWidth)}  ${choice.title}${choice.description ? ` — ${choice.description}` : ''}`, width)}
          </Text>
        );
      })}
      <Box flexGrow={1} />
      <Text dimColor wrap="truncate">
        {footerLine(props.list === 'profile' ? pickerKeys : pickerKeys.filter((key) => key.keys !== 'Tab'))}
      </Text>
    </Box>
  );
}

export interface ProfilePickerProps {
  readonly list: 'profile' | 'menu';
  readonly choices: readonly Choice[];
  readonly machines: number;
  readonly isOnce: boolean;
  readonly isActive: boolean;
  readonly height: number;
  readonly width: number;
  onSubmit(id: string, isOnce: boolean): void;
  onCancel(): void;
}

export function ProfilePicker(props: ProfilePickerProps) {
  const [state, dispatch] = usePickerState(props.isOnce);
  const shown = filterChoices(props.choices, state.query);
  usePickerInput({
    isActive: props.isActive,
    count: shown.length,
    dispatch,
    onSubmit: () => {
      const choice = shown[state.index];
      if (choice) props.onSubmit(choice.id, state.isOnce);
    },
    onCancel: props.onCancel,
  });
  return <PickerBody list={props.list} machines={props.machines} state={state} shown={shown} height={props.height} width={props.width} />;
}
