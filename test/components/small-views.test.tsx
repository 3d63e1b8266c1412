import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { Footer } from '../../components/Footer.js';
import { HelpView } from '../../components/HelpView.js';
import { LogView } from '../../components/LogView.js';
import { footerLine, tableKeys } from '../../components/model/key-help.js';

describe('help, log and footer', () => {
  it('the footer lists the main keys; the help lists every key from the same table', () => {
    const footer = render(<Footer keys={footerLine(tableKeys)} width={100} message={{ text: '2 machines → alpine', level: 'info' }} />);
    expect(footer.lastFrame()).toMatch(/2 machines → alpine *\n.*Enter details {2}space select {2}n all new {2}a assign {2}o once {2}h hold {2}r release/);
    const help = render(<HelpView height={40} width={100} />);
    for (const key of tableKeys) expect(help.lastFrame()).toContain(key.action.slice(0, 40));
    expect(help.lastFrame()).toMatch(/Tab +toggle once/);
  });

  it('the footer shows the filter being typed', () => {
    const footer = render(<Footer keys="" width={80} filter={{ text: 'dell', isEditing: true }} />);
    expect(footer.lastFrame()).toMatch(/^\/dell .*Enter keep {2}Esc clear/);
  });

  it('the log shows the newest notes that fit, coloured by level', () => {
    const notes = Array.from({ length: 30 }, (_, index) => ({ time: Date.UTC(2026, 0, 1, 10, 0, index), level: index === 29 ? ('error' as const) : ('info' as const), text: `note ${index}` }));
    const log = render(<LogView notes={notes} height={10} width={80} />);
    const frame = log.lastFrame()!;
    expect(frame).toMatch(/System log \(30 entries, newest last\)/);
    expect(frame).toMatch(/error +note 29/);
    expect(frame).not.toMatch(/note 3\b/);
  });
});
