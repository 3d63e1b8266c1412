/** Keys of the settings screen: arrows choose, Enter edits and keeps the change, w applies (servers restart), Esc leaves. */
import type { Key } from 'ink';
import { useKeys } from './use-keys.js';
import type { Dispatch } from 'react';
import type { EditableSetting } from './model/server-control.js';
import type { SettingsAction, SettingsState } from './use-settings-state.js';

export interface SettingsInputOptions {
  readonly isActive: boolean;
  readonly state: SettingsState;
  readonly fields: readonly EditableSetting[];
  readonly dispatch: Dispatch<SettingsAction>;
  valueOf(field: EditableSetting): string;
  onApply(): void;
  onClose(): void;
}

export function useSettingsInput(options: SettingsInputOptions): void {
  useKeys(
    (input: string, key: Key) => {
      const { dispatch, state, fields } = options;
      if (state.isApplying) return undefined;
      const field = fields[state.index]!;
      if (state.isEditing) {
        if (key.escape) return dispatch({ type: 'cancelEdit' });
        if (key.return) return dispatch({ type: 'commitEdit', field });
        if (key.backspace || key.delete) return dispatch({ type: 'erase' });
        if (input && !key.ctrl && !key.meta && !key.upArrow && !key.downArrow && /^[\x20-\x7e]+$/.test(input)) return dispatch({ type: 'type', text: input });
        return undefined;
      }
      if (key.escape || input === 'q' || (key.ctrl && input === 'c')) return options.onClose();
      if (key.upArrow || input === 'k') return dispatch({ type: 'move', delta: -1, count: fields.length });
      if (key.downArrow || input === 'j') return dispatch({ type: 'move', delta: 1, count: fields.length });
      if (key.return) return dispatch({ type: 'edit', value: options.valueOf(field) });
      if (input === 'w' || (key.ctrl && input === 's')) return options.onApply();
      if (input === 'u') return dispatch({ type: 'discard' });
      return undefined;
    },
    { isActive: options.isActive },
  );
}
