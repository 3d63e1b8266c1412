/**
 * Keys, one at a time, to whichever component has the keyboard. Ink hands a chunk of plain characters
 * over as one input ("a", "mem", Tab and Enter arriving together over SSH or from tmux send-keys), and a
 * key that opens a dialog must leave the next ones to the dialog. So one router (KeyRouter, at the
 * root) splits each chunk into keys and delivers them in order, letting React re-render between two
 * keys: each key reaches the handlers active after the previous one, with the state it left behind.
 * A component rendered without a router (a unit test) gets its keys straight from Ink, split the same way.
 */
import { useInput, type Key } from 'ink';
import { createContext, createElement, useCallback, useContext, useEffect, useLayoutEffect, useRef, type ReactNode } from 'react';

export type KeyHandler = (input: string, key: Key) => void;

interface Registration {
  readonly handler: { current: KeyHandler };
  readonly isActive: { current: boolean };
}

const noKey: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
};

/** One chunk of input as separate keys; escape sequences (arrows…) already come one per input from Ink. */
export function splitKeys(input: string, key: Key): Array<{ readonly input: string; readonly key: Key }> {
  const characters = [...input];
  if (characters.length <= 1) return [{ input, key }];
  return characters.map((character) => {
    if (character === '\r' || character === '\n') return { input: '', key: { ...noKey, return: true } };
    if (character === '\t') return { input: '', key: { ...noKey, tab: true } };
    if (character === '\u007f' || character === '\b') return { input: '', key: { ...noKey, backspace: true } };
    const code = character.codePointAt(0)!;
    if (code >= 1 && code <= 26) return { input: String.fromCharCode(code + 96), key: { ...noKey, ctrl: true } };
    return { input: character, key: { ...noKey, shift: character !== character.toLowerCase() } };
  });
}

/**
 * Delivers keys one per macrotask, so React commits between them. A key that finds the way clear goes
 * at once; the way stays taken until the next macrotask, because Ink may hand over several chunks in one
 * tick, before any of them has been rendered.
 */
function createDeliverer(deliver: (input: string, key: Key) => void) {
  const queue: Array<{ input: string; key: Key }> = [];
  let timer: NodeJS.Timeout | undefined;
  const drain = () => {
    timer = undefined;
    const next = queue.shift();
    if (!next) return;
    deliver(next.input, next.key);
    timer = setTimeout(drain, 0);
  };
  return {
    push(input: string, key: Key) {
      queue.push(...splitKeys(input, key));
      if (timer === undefined) drain();
    },
    stop() {
      clearTimeout(timer);
      timer = undefined;
      queue.length = 0;
    },
  };
}

type Router = { register(registration: Registration): () => void };

const RouterContext = createContext<Router | null>(null);

/** The one place keys enter the console. */
export function KeyRouter(props: { readonly children: ReactNode }) {
  const registrations = useRef(new Set<Registration>());
  const deliverer = useRef<ReturnType<typeof createDeliverer> | null>(null);
  deliverer.current ??= createDeliverer((input, key) => {
    // Every handler active for this key: decided before any of them runs.
    const active = [...registrations.current].filter((registration) => registration.isActive.current);
    for (const registration of active) registration.handler.current(input, key);
  });
  useEffect(() => () => deliverer.current?.stop(), []);
  // A stable handler: Ink re-subscribes useInput whenever the handler changes, which would be every frame.
  const onInput = useCallback((input: string, key: Key) => deliverer.current!.push(input, key), []);
  useInput(onInput);
  const router = useRef<Router>({
    register(registration) {
      registrations.current.add(registration);
      return () => registrations.current.delete(registration);
    },
  });
  return createElement(RouterContext.Provider, { value: router.current }, props.children);
}

export function useKeys(handler: KeyHandler, options: { readonly isActive: boolean }): void {
  const router = useContext(RouterContext);
  const handlerRef = useRef(handler);
  handlerRef.current = handler;
  const activeRef = useRef(options.isActive);
  activeRef.current = options.isActive;
  // Registered on commit, before the router delivers the next queued key.
  useLayoutEffect(() => router?.register({ handler: handlerRef, isActive: activeRef }), [router]);
  const local = useRef<ReturnType<typeof createDeliverer> | null>(null);
  local.current ??= createDeliverer((input, key) => {
    if (activeRef.current) handlerRef.current(input, key);
  });
  useEffect(() => () => local.current?.stop(), []);
  const onInput = useCallback((input: string, key: Key) => local.current!.push(input, key), []);
  useInput(onInput, { isActive: router === null && options.isActive });
}
