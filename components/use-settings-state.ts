/** The settings screen: highlighted field, the edit in progress, changes not yet applied, the apply result. */
import { useReducer } from 'react';
import { lineEditReducer, type LineEditAction, type LineEditState } from './line-edit.js';
import type { EditableSetting } from './model/server-control.js';

export interface SettingsState extends LineEditState {
  readonly pending: Readonly<Partial<Record<EditableSetting, string>>>;
  readonly isApplying: boolean;
  readonly result?: { readonly ok: boolean; readonly message: string };
}

export type SettingsAction =
  | LineEditAction
  | { readonly type: 'cancelEdit' }
  | { readonly type: 'commitEdit'; readonly field: EditableSetting }
  | { readonly type: 'applying' }
  | { readonly type: 'applied'; readonly ok: boolean; readonly message: string }
  | { readonly type: 'discard' };

export const initialSettingsState: SettingsState = { index: 0, isEditing: false, draft: '', pending: {}, isApplying: false };

export function settingsReducer(state: SettingsState, action: SettingsAction): SettingsState {
  switch (action.type) {
    case 'move':
    case 'edit':
    case 'type':
    case 'erase':
      return lineEditReducer(state, action);
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

const numeric = new Set<EditableSetting>(['httpPort', 'leaseSeconds', 'raLifetime', 'controlPort']);

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
