/**
 * The console's own state, apart from the registry: which view is up, which machine the cursor is on (by
 * MAC, so it stays on its machine while the order changes under it), the selection, the filter, the sort,
 * the open dialog and the last message. A reducer, so every key's effect is a testable transition.
 */
import { useReducer } from 'react';
import type { Mac } from '../src/protocol/mac.js';
import { sortOrders, type SortOrder } from './model/client-rows.js';

export type ConsoleView = 'table' | 'detail' | 'help' | 'log' | 'settings';

export type ConsoleDialog =
  | { readonly kind: 'picker'; readonly list: 'profile' | 'menu'; readonly once: boolean; readonly macs: readonly Mac[] }
  | { readonly kind: 'variables'; readonly macs: readonly Mac[] };

export interface ConsoleMessage {
  readonly text: string;
  readonly level: 'info' | 'error';
}

export interface ConsoleState {
  readonly view: ConsoleView;
  readonly dialog?: ConsoleDialog;
  readonly cursor?: Mac;
  readonly marks: ReadonlySet<Mac>;
  readonly filter: string;
  readonly isFiltering: boolean;
  readonly sort: SortOrder;
  readonly message?: ConsoleMessage;
  readonly isQuitting: boolean;
}

export type ConsoleAction =
  | { readonly type: 'move'; readonly delta: number; readonly order: readonly Mac[] }
  | { readonly type: 'jump'; readonly to: 'top' | 'bottom'; readonly order: readonly Mac[] }
  | { readonly type: 'point'; readonly mac: Mac }
  | { readonly type: 'toggleMark'; readonly mac: Mac }
  | { readonly type: 'markMany'; readonly macs: readonly Mac[] }
  | { readonly type: 'clearMarks' }
  | { readonly type: 'view'; readonly view: ConsoleView }
  | { readonly type: 'openDialog'; readonly dialog: ConsoleDialog }
  | { readonly type: 'closeDialog' }
  | { readonly type: 'filterStart' }
  | { readonly type: 'filterType'; readonly text: string }
  | { readonly type: 'filterErase' }
  | { readonly type: 'filterEnd'; readonly keep: boolean }
  | { readonly type: 'cycleSort' }
  | { readonly type: 'message'; readonly message: ConsoleMessage | undefined }
  | { readonly type: 'quitting' };

export const initialConsoleState: ConsoleState = {
  view: 'table',
  marks: new Set(),
  filter: '',
  isFiltering: false,
  sort: 'recent',
  isQuitting: false,
};

/** The cursor's machine when it is in the list, else the first row. */
export function cursorIn(state: ConsoleState, order: readonly Mac[]): Mac | undefined {
  return state.cursor !== undefined && order.includes(state.cursor) ? state.cursor : order[0];
}

/** What an operator action applies to: the selection, or the machine under the cursor. */
export function actionTargets(state: ConsoleState, order: readonly Mac[]): Mac[] {
  if (state.marks.size > 0) return [...state.marks];
  const cursor = cursorIn(state, order);
  return cursor ? [cursor] : [];
}

export function consoleReducer(state: ConsoleState, action: ConsoleAction): ConsoleState {
  switch (action.type) {
    case 'move': {
      if (action.order.length === 0) return state;
      const current = cursorIn(state, action.order);
      const index = current === undefined ? 0 : action.order.indexOf(current);
      const next = Math.max(0, Math.min(action.order.length - 1, index + action.delta));
      return { ...state, cursor: action.order[next] };
    }
    case 'jump':
      return action.order.length === 0 ? state : { ...state, cursor: action.to === 'top' ? action.order[0] : action.order.at(-1) };
    case 'point':
      return { ...state, cursor: action.mac };
    case 'toggleMark': {
      const marks = new Set(state.marks);
      if (marks.has(action.mac)) marks.delete(action.mac);
      else marks.add(action.mac);
      return { ...state, marks };
    }
    case 'markMany':
      return { ...state, marks: new Set([...state.marks, ...action.macs]) };
    case 'clearMarks':
      return state.marks.size === 0 ? state : { ...state, marks: new Set() };
    case 'view':
      return { ...state, view: action.view, dialog: undefined };
    case 'openDialog':
      return { ...state, dialog: action.dialog };
    case 'closeDialog':
      return { ...state, dialog: undefined };
    case 'filterStart':
      return { ...state, isFiltering: true };
    case 'filterType':
      return { ...state, filter: state.filter + action.text };
    case 'filterErase':
      return { ...state, filter: state.filter.slice(0, -1) };
    case 'filterEnd':
      return { ...state, isFiltering: false, filter: action.keep ? state.filter : '' };
    case 'cycleSort':
      return { ...state, sort: sortOrders[(sortOrders.indexOf(state.sort) + 1) % sortOrders.length]! };
    case 'message':
      return { ...state, message: action.message };
    case 'quitting':
      return { ...state, isQuitting: true };
  }
}

export function useConsoleState(initial: Partial<ConsoleState> = {}) {
  return useReducer(consoleReducer, { ...initialConsoleState, ...initial });
}
