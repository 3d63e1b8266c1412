/** The list-with-one-line-editor behaviour the settings screen and the variables editor share. */

export interface LineEditState {
  readonly index: number;
  readonly isEditing: boolean;
  readonly draft: string;
}

export type LineEditAction =
  | { readonly type: 'move'; readonly delta: number; readonly count: number }
  | { readonly type: 'edit'; readonly value: string }
  | { readonly type: 'type'; readonly text: string }
  | { readonly type: 'erase' };

/** Moves the highlight or edits the draft; the caller's own state rides along untouched. */
export function lineEditReducer<S extends LineEditState>(state: S, action: LineEditAction): S {
  switch (action.type) {
    case 'move':
      return { ...state, index: Math.max(0, Math.min(action.count - 1, state.index + action.delta)) };
    case 'edit':
      return { ...state, isEditing: true, draft: action.value };
    case 'type':
      return { ...state, draft: state.draft + action.text };
    case 'erase':
      return { ...state, draft: state.draft.slice(0, -1) };
  }
}
