/**
 * Per-machine variables (hostname, extra kernel arguments, whatever the profile declares), for one
 * machine or the whole selection; each Enter saves the field at once. `VariablesEditor` wires state and
 * input; `VariablesBody` only renders.
 */
import { Box, Text } from 'ink';
import { fit } from './model/format.js';
import { TextField } from './TextField.js';
import { useVariablesInput } from './use-variables-input.js';
import { parseNewVariable, useVariablesState, type VariablesState } from './use-variables-state.js';

export interface VariableField {
  readonly name: string;
  /** The machines' common value; undefined when they differ. */
  readonly value: string | undefined;
}

export interface VariablesBodyProps {
  readonly fields: readonly VariableField[];
  readonly machines: number;
  readonly state: VariablesState;
  readonly height: number;
  readonly width: number;
}

const NEW_ROW = '+ new variable (NAME=VALUE)';

export function VariablesBody(props: VariablesBodyProps) {
  const { state } = props;
  const nameWidth = Math.max(12, ...props.fields.map((field) => field.name.length));
  const width = props.width - 1;
  const rows = [...props.fields.map((field) => field.name), NEW_ROW];
  return (
    <Box flexDirection="column" height={props.height}>
      <Text bold color="cyan" wrap="truncate">
        {`Variables for ${props.machines === 1 ? '1 machine' : `${props.machines} machines`} — used as {{name}} in profiles; hostname may use {{mac_hyphen}}`}
      </Text>
      <Text> </Text>
      {rows.map((name, index) => {
        const isCurrent = index === state.index;
        const field = props.fields[index];
        const label = name === NEW_ROW ? name : name.padEnd(nameWidth);
        if (isCurrent && state.isEditing) {
          return (
            <Text key={name} wrap="truncate">
              {`› ${name === NEW_ROW ? '' : `${label}  `}`}
              <TextField value={state.draft} isFocused />
            </Text>
          );
        }
        const value = field ? (field.value === undefined ? '(differs between machines)' : field.value === '' ? '(not set)' : field.value) : '';
        return (
          <Text key={name} inverse={isCurrent} wrap="truncate" dimColor={!isCurrent && (field?.value === '' || name === NEW_ROW)}>
            {fit(`${isCurrent ? '›' : ' '} ${label}  ${value}`, width)}
          </Text>
        );
      })}
      <Box flexGrow={1} />
      <Text dimColor wrap="truncate">
        {state.isEditing ? 'Enter save  Esc cancel' : '↑↓ choose  Enter edit  d remove  Esc close'}
      </Text>
    </Box>
  );
}

export interface VariablesEditorProps {
  readonly fields: readonly VariableField[];
  readonly machines: number;
  readonly isActive: boolean;
  readonly height: number;
  readonly width: number;
  /** Sets (or, with "", removes) one variable on every machine. */
  onSave(name: string, value: string): void;
  onError(message: string): void;
  onClose(): void;
}

export function VariablesEditor(props: VariablesEditorProps) {
  const [state, dispatch] = useVariablesState();
  const count = props.fields.length + 1;
  useVariablesInput({
    isActive: props.isActive,
    state,
    count,
    dispatch,
    valueAt: (index) => props.fields[index]?.value ?? '',
    onCommit(index, text) {
      const field = props.fields[index];
      if (field) return props.onSave(field.name, text);
      if (text.trim() === '') return undefined;
      const parsed = parseNewVariable(text);
      if (!parsed) return props.onError(`"${text}": type NAME=VALUE with a lower-case name`);
      return props.onSave(parsed.name, parsed.value);
    },
    onClose: props.onClose,
  });
  return <VariablesBody fields={props.fields} machines={props.machines} state={state} height={props.height} width={props.width} />;
}
