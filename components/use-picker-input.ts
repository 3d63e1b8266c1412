/** Keys of the picker: typing filters, arrows choose, Tab toggles once, Enter assigns, Esc cancels. */
import type { Key } from 'ink';
import { useKeys } from './use-keys.js';
import type { Dispatch } from 'react';
import type { PickerAction } from './use-picker-state.js';

export interface PickerInputOptions {
  readonly isActive: boolean;
  readonly count: number;
  readonly dispatch: Dispatch<PickerAction>;
  onSubmit(): void;
  onCancel(): void;
}

export function usePickerInput(options: PickerInputOptions): void {
  useKeys(
    (input: string, key: Key) => {
      const { dispatch, count } = options;
      if (key.escape || (key.ctrl && input === 'c')) return options.onCancel();
      if (key.return) return options.onSubmit();
      if (key.tab) return dispatch({ type: 'toggleOnce' });
      if (key.upArrow) return dispatch({ type: 'move', delta: -1, count });
      if (key.downArrow) return dispatch({ type: 'move', delta: 1, count });
      if (key.pageUp) return dispatch({ type: 'move', delta: -10, count });
      if (key.pageDown) return dispatch({ type: 'move', delta: 10, count });
      if (key.backspace || key.delete) return dispatch({ type: 'erase' });
      if (input && !key.ctrl && !key.meta && /^[\x20-\x7e]+$/.test(input)) return dispatch({ type: 'type', text: input });
      return undefined;
    },
    { isActive: options.isActive },
  );
}
