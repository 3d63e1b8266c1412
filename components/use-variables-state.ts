/** The variables editor: which field is highlighted, and the text being typed into it. */
import { useReducer } from 'react';
import { lineEditReducer, type LineEditAction, type LineEditState } from './line-edit.js';

export type VariablesState = LineEditState;

export type VariablesAction = LineEditAction | { readonly type: 'stopEditing' };

export function variablesReducer(state: VariablesState, action: VariablesAction): VariablesState {
  switch (action.type) {
    case 'move':
    case 'edit':
    case 'type':
    case 'erase':
      return lineEditReducer(state, action);
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
