/** The settings screen: highlighted field, the edit in progress, changes not yet applied, the apply result. */
import { useReducer } from 'react';
import type { EditableSetting } from './model/server-control.js';

export interface SettingsState {
  readonly index: number;
  readonly isEditing: boolean;
  readonly draft: string;
  readonly pending: Readonly<Partial<Record<EditableSetting, string>>>;
  readonly isApplying: boolean;
  readonly result?: { readonly ok: boolean; readonly message: string };
}

export type SettingsAction =
  | { readonly type: 'move'; readonly delta: number; readonly count: number }
  | { readonly type: 'edit'; readonly value: string }
  | { readonly type: 'type'; readonly text: string }
  | { readonly type: 'erase' }
  | { readonly type: 'cancelEdit' }
  | { readonly type: 'commitEdit'; readonly field: EditableSetting }
  | { readonly type: 'applying' }
  | { readonly type: 'applied'; readonly ok: boolean; readonly message: string }
  | { readonly type: 'discard' };

export const initialSettingsState: SettingsState = { index: 0, isEditing: false, draft: '', pending: {}, isApplying: false };

export function settingsReducer(state: SettingsState, action: SettingsAction): SettingsState {
  switch (action.type) {
    case 'move':
      return { ...state, index: Math.max(0, Math.min(action.count - 1, state.index + action.delta)) };
    case 'edit':
      return { ...state, isEditing: true, draft: action.value };
    case 'type':
      return { ...state, draft: state.draft + action.text };
    case 'erase':
      return { ...state, draft: state.draft.slice(0, -1) };
    case 'cancelEdit':
      return { ...state, isEditing: false, draft: '' };
    case 'commitEdit':
      return { ...state, isEditing: false, draft: '', pending: { ...state.pending, [action.field]: state.draft } };
    case 'applying':
      return { ...state, isApplying: true, result: undefined };
    case 'applied':
      return { ...state, isApplying: false, result: { ok: action.ok, message: action.message }, pending: action.ok ? {} : state.pending };
    case 'discard':
      return { ...state, pending: {}, result: undefined };
  }
}

const numeric = new Set<EditableSetting>(['httpPort', 'leaseSeconds', 'controlPort']);

/** Typed text to a settings value: numbers where the field is a number, "" removes the field (its default applies). */
export function settingValue(field: EditableSetting, text: string): unknown {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  if (numeric.has(field) && /^\d+$/.test(trimmed)) return Number(trimmed);
  return trimmed;
}

export function useSettingsState() {
  return useReducer(settingsReducer, initialSettingsState);
}
