import { Text } from 'ink';
import { render } from 'ink-testing-library';
import { useState } from 'react';
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

  it('hands the keys after one that opens a dialog to the dialog, each seeing the state the last one left', async () => {
    function Dialog(props: { readonly onDone: (text: string) => void }) {
      const [text, setText] = useState('');
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
    const app = render(
      <KeyRouter>
        <App />
      </KeyRouter>,
    );
    // One chunk, as tmux send-keys or a fast typist over SSH delivers it.
    app.stdin.write('amem\r');
    await waitForFrame(app.lastFrame, (frame) => frame === 'table mem');
  });
});
