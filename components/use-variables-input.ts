/** Keys of the variables editor: arrows choose a field, Enter edits and saves it, Esc cancels or closes. */
import type { Key } from 'ink';
import { useKeys } from './use-keys.js';
import type { Dispatch } from 'react';
import type { VariablesAction, VariablesState } from './use-variables-state.js';

export interface VariablesInputOptions {
  readonly isActive: boolean;
  readonly state: VariablesState;
  readonly count: number;
  readonly dispatch: Dispatch<VariablesAction>;
  /** The value the highlighted field starts from when editing begins. */
  valueAt(index: number): string;
  onCommit(index: number, text: string): void;
  onClose(): void;
}

export function useVariablesInput(options: VariablesInputOptions): void {
  useKeys(
    (input: string, key: Key) => {
      const { dispatch, state } = options;
      if (state.isEditing) {
        if (key.escape) return dispatch({ type: 'stopEditing' });
        if (key.return) {
          options.onCommit(state.index, state.draft);
          return dispatch({ type: 'stopEditing' });
        }
        if (key.backspace || key.delete) return dispatch({ type: 'erase' });
        if (input && !key.ctrl && !key.meta && !key.upArrow && !key.downArrow && /^[^\x00-\x1f\x7f]+$/.test(input)) return dispatch({ type: 'type', text: input });
        return undefined;
      }
      if (key.escape || input === 'q' || (key.ctrl && input === 'c')) return options.onClose();
      if (key.upArrow || input === 'k') return dispatch({ type: 'move', delta: -1, count: options.count });
      if (key.downArrow || input === 'j') return dispatch({ type: 'move', delta: 1, count: options.count });
      if (key.return) return dispatch({ type: 'edit', value: options.valueAt(state.index) });
      if (key.backspace || key.delete || input === 'd') return options.onCommit(state.index, '');
      return undefined;
    },
    { isActive: options.isActive },
  );
}
