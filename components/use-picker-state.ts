/** The picker's query, highlighted choice and "once" toggle; choices filter as the operator types. */
import { useReducer } from 'react';
import type { Choice } from '../src/state/operator.js';

export interface PickerState {
  readonly query: string;
  readonly index: number;
  readonly isOnce: boolean;
}

export type PickerAction =
  | { readonly type: 'type'; readonly text: string }
  | { readonly type: 'erase' }
  | { readonly type: 'move'; readonly delta: number; readonly count: number }
  | { readonly type: 'toggleOnce' };

export function pickerReducer(state: PickerState, action: PickerAction): PickerState {
  switch (action.type) {
    case 'type':
      return { ...state, query: state.query + action.text, index: 0 };
    case 'erase':
      return { ...state, query: state.query.slice(0, -1), index: 0 };
    case 'move':
      return action.count === 0 ? state : { ...state, index: Math.max(0, Math.min(action.count - 1, state.index + action.delta)) };
    case 'toggleOnce':
      return { ...state, isOnce: !state.isOnce };
  }
}

/** Matches on id, title and description; ids that start with the query come first. */
export function filterChoices(choices: readonly Choice[], query: string): Choice[] {
  const needle = query.trim().toLowerCase();
  if (!needle) return [...choices];
  const words = needle.split(/\s+/);
  const scored = choices
    .map((choice) => {
      const haystack = `${choice.id} ${choice.title} ${choice.description ?? ''}`.toLowerCase();
      if (!words.every((word) => haystack.includes(word))) return undefined;
      const rank = choice.id.startsWith(needle) ? 0 : choice.id.includes(needle) ? 1 : choice.title.toLowerCase().includes(needle) ? 2 : 3;
      return { choice, rank };
    })
    .filter((entry): entry is { choice: Choice; rank: number } => entry !== undefined);
  return scored.sort((a, b) => a.rank - b.rank || a.choice.id.localeCompare(b.choice.id)).map((entry) => entry.choice);
}

export function usePickerState(isOnce: boolean) {
  return useReducer(pickerReducer, { query: '', index: 0, isOnce });
}
