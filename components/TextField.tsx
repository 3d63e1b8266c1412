/** A one-line text input as drawn: the text so far and a block cursor. Input belongs to the owner's hook. */
import { Text } from 'ink';

export interface TextFieldProps {
  readonly value: string;
  readonly placeholder?: string;
  readonly isFocused: boolean;
}

export function TextField(props: TextFieldProps) {
  return (
    <Text>
      {props.value === '' && props.placeholder ? <Text dimColor>{props.placeholder}</Text> : props.value}
      {props.isFocused ? <Text inverse> </Text> : null}
    </Text>
  );
}
