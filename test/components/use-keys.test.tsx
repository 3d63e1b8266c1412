import { Text } from 'ink';
import { render } from 'ink-testing-library';
import { useEffect, useState } from 'react';
import { describe, expect, it } from 'vitest';
import { KeyRouter, splitKeys, useKeys } from '../../components/use-keys.js';
import { waitForFrame } from './support/ink.js';

const noKey = { upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageDown: false, pageUp: false, home: false, end: false, return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: false, meta: false, super: false, hyper: false, capsLock: false, numLock: false };

describe('keys, one at a time', () => {
  it('splits a chunk of typed keys into keys', () => {
    const keys = splitKeys('ab\t\r\u007f\u0003', noKey);
    expect(keys.map((entry) => entry.input)).toEqual(['a', 'b', '', '', '', 'c']);
    expect(keys[2]!.key.tab).toBe(true);
    expect(keys[3]!.key.return).toBe(true);
    expect(keys[4]!.key.backspace).toBe(true);
    expect(keys[5]!.key.ctrl).toBe(true);
    expect(splitKeys('', { ...noKey, upArrow: true })).toEqual([{ input: '', key: { ...noKey, upArrow: true } }]);
  });

  function renderTableWithDialog(dialogEffect: () => void) {
    function Dialog(props: { readonly onDone: (text: string) => void }) {
      const [text, setText] = useState('');
      useEffect(dialogEffect);
      useKeys(
        (input, key) => {
          if (key.return) props.onDone(text);
          else setText((previous) => previous + input);
        },
        { isActive: true },
      );
      return <Text>{`dialog: ${text}`}</Text>;
    }
    function App() {
      const [isOpen, setOpen] = useState(false);
      const [result, setResult] = useState('');
      useKeys((input) => {
        if (input === 'a') setOpen(true);
      }, { isActive: !isOpen });
      return isOpen ? <Dialog onDone={(text) => { setResult(text); setOpen(false); }} /> : <Text>{`table ${result}`}</Text>;
    }
    return render(
      <KeyRouter>
        <App />
      </KeyRouter>,
    );
  }

  it('hands the keys after one that opens a dialog to the dialog, each seeing the state the last one left', async () => {
    const app = renderTableWithDialog(() => {});
    // One chunk, as tmux send-keys or a fast typist over SSH delivers it.
    app.stdin.write('amem\r');
    await waitForFrame(app.lastFrame, (frame) => frame === 'table mem');
  });

  it('waits for the render a key caused, even when React defers it past the next macrotask', async () => {
    // An effect longer than React's 5 ms slice makes its scheduler yield to the event loop before the
    // next render, as any effect does on a loaded machine (CI lost the last "m" here: "table me").
    const app = renderTableWithDialog(() => busyFor(7));
    // Three words: whether the scheduler yields at that moment depends on timing, so give it chances.
    let shown = 'table ';
    for (const word of ['memory', 'leases', 'stages']) {
      app.stdin.write(`a${word}\r`);
      const last = shown;
      shown = await waitForFrame(app.lastFrame, (frame) => /^table .+/.test(frame) && frame !== last);
      expect(shown).toBe(`table ${word}`);
    }
  });
});

function busyFor(milliseconds: number): void {
  const end = performance.now() + milliseconds;
  while (performance.now() < end);
}
