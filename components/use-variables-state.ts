/** The variables editor: which field is highlighted, and the text being typed into it. */
import { useReducer } from 'react';

export interface VariablesState {
  readonly index: number;
  readonly isEditing: boolean;
  readonly draft: string;
}

export type VariablesAction =
  | { readonly type: 'move'; readonly delta: number; readonly count: number }
  | { readonly type: 'edit'; readonly value: string }
  | { readonly type: 'type'; readonly text: string }
  | { readonly type: 'erase' }
  | { readonly type: 'stopEditing' };

export function variablesReducer(state: VariablesState, action: VariablesAction): VariablesState {
  switch (action.type) {
    case 'move':
      return { ...state, index: Math.max(0, Math.min(action.count - 1, state.index + action.delta)) };
    case 'edit':
      return { ...state, isEditing: true, draft: action.value };
    case 'type':
      return { ...state, draft: state.draft + action.text };
    case 'erase':
      return { ...state, draft: state.draft.slice(0, -1) };
    case 'stopEditing':
      return { ...state, isEditing: false, draft: '' };
  }
}

/** A new variable is typed as NAME=VALUE on the last row. */
export function parseNewVariable(text: string): { readonly name: string; readonly value: string } | undefined {
  const match = /^\s*([a-z_][a-z0-9_]*)\s*=(.*)$/s.exec(text);
  return match ? { name: match[1]!, value: match[2]!.trim() } : undefined;
}

export function useVariablesState() {
  return useReducer(variablesReducer, { index: 0, isEditing: false, draft: '' });
}
