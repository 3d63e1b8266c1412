// Ink 6 stops listening for resize under CI=true: the console's own hook must re-lay out the screen.
import { Text } from 'ink';
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { useTerminalSize } from '../../components/use-terminal-size.js';
import { screenLayout } from '../../components/ConsoleApp.js';
import { waitForFrame } from './support/ink.js';

function Probe() {
  const { columns, rows } = useTerminalSize();
  const layout = screenLayout(rows);
  return <Text>{`${columns}x${rows} table ${layout.table} detail ${layout.detail}`}</Text>;
}

describe('useTerminalSize', () => {
  it('re-reads the size on every resize of the output stream', async () => {
    const app = render(<Probe />);
    let columns = 100;
    let rows = 24;
    Object.defineProperty(app.stdout, 'columns', { get: () => columns, configurable: true });
    Object.defineProperty(app.stdout, 'rows', { get: () => rows, configurable: true });
    app.stdout.emit('resize');
    await waitForFrame(app.lastFrame, (frame) => frame.startsWith('100x24 table 14 detail 3'));
    columns = 200;
    rows = 50;
    app.stdout.emit('resize');
    await waitForFrame(app.lastFrame, (frame) => frame.startsWith('200x50 table'));
    expect(app.lastFrame()).toBe(`200x50 table ${screenLayout(50).table} detail ${screenLayout(50).detail}`);
    expect(screenLayout(50).detail).toBeGreaterThan(3);
    app.unmount();
  });
});
