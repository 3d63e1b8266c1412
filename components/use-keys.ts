/**
 * Keys, one at a time, to whichever component has the keyboard. Ink hands a chunk of plain characters
 * over as one input ("a", "mem", Tab and Enter arriving together over SSH or from tmux send-keys), and a
 * key that opens a dialog must leave the next ones to the dialog. So one router (KeyRouter, at the
 * root) splits each chunk into keys and delivers them in order, each after React has committed the last
 * one: each key reaches the handlers active after the previous one, with the state it left behind.
 * A component rendered without a router (a unit test) gets its keys straight from Ink, split the same way.
 */
import { useInput, type Key } from 'ink';
import { createContext, createElement, useCallback, useContext, useEffect, useLayoutEffect, useRef, useState, type ReactNode } from 'react';

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
 * Delivers keys in order, the next one only after React has committed what the last one changed: a
 * render can come after the next macrotask (React's scheduler yields to the event loop after 5 ms, e.g.
 * behind a slow effect on a loaded machine), and a key delivered before it would reach a handler that
 * still sees the old state. So each key also bumps a counter held in state; it commits with the key's
 * own updates, and the effect that sees it lets the next key go, one macrotask later.
 */
function useDeliveryInOrder(deliver: (input: string, key: Key) => void): (input: string, key: Key) => void {
  const deliverRef = useRef(deliver);
  deliverRef.current = deliver;
  const queue = useRef<Array<{ input: string; key: Key }>>([]);
  // A key went out and the commit carrying its changes has not been seen yet.
  const isWaiting = useRef(false);
  const [delivered, setDelivered] = useState(0);
  const deliverNext = useCallback(() => {
    const next = queue.current.shift();
    if (!next) {
      isWaiting.current = false;
      return;
    }
    isWaiting.current = true;
    setDelivered((count) => count + 1);
    deliverRef.current(next.input, next.key);
  }, []);
  useEffect(() => {
    if (delivered === 0) return undefined;
    const timer = setTimeout(deliverNext, 0);
    return () => clearTimeout(timer);
  }, [delivered, deliverNext]);
  return useCallback(
    (input: string, key: Key) => {
      queue.current.push(...splitKeys(input, key));
      if (!isWaiting.current) deliverNext();
    },
    [deliverNext],
  );
}

type Router = { register(registration: Registration): () => void };

const RouterContext = createContext<Router | null>(null);

/** The one place keys enter the console. */
export function KeyRouter(props: { readonly children: ReactNode }) {
  const registrations = useRef(new Set<Registration>());
  // A stable handler: Ink re-subscribes useInput whenever the handler changes, which would be every frame.
  const onInput = useDeliveryInOrder((input, key) => {
    // Every handler active for this key: decided before any of them runs.
    const active = [...registrations.current].filter((registration) => registration.isActive.current);
    for (const registration of active) registration.handler.current(input, key);
  });
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
  const onInput = useDeliveryInOrder((input, key) => {
    if (activeRef.current) handlerRef.current(input, key);
  });
  useInput(onInput, { isActive: router === null && options.isActive });
}
