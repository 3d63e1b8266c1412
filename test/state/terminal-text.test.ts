import { describe, expect, it } from 'vitest';
import { terminalSafeJson, terminalText } from '../../src/state/terminal-text.js';

describe('terminalSafeJson', () => {
  it('returns a line of plain ASCII as it is', () => {
    const line = JSON.stringify({ kind: 'dhcp.received', mac: '52:54:00:12:34:56', options: { vendorClass: 'PXEClient:Arch:00007' } });
    expect(terminalSafeJson(line)).toBe(line);
  });

  it('escapes DEL, C1, format and bidi controls, ASCII or not, and the JSON stays the same value', () => {
    for (const unsafe of ['\u007f', '\u0085', '\u009b', '\u00ad', '\u061c', '\u180e', '\u200b', '\u202e', '\u2066', '\ufeff', '\ufffb']) {
      const value = { kind: 'syslog.line', tag: `in${unsafe}staller` };
      const line = terminalSafeJson(JSON.stringify(value));
      expect(line).not.toContain(unsafe);
      expect(line).toContain(`\\u${unsafe.charCodeAt(0).toString(16).padStart(4, '0')}`);
      expect(JSON.parse(line)).toEqual(value);
    }
  });

  it('keeps printable text beyond ASCII', () => {
    const line = JSON.stringify({ hostname: 'büro-αβγ-機械' });
    expect(terminalSafeJson(line)).toBe(line);
  });
});

describe('terminalText', () => {
  it('shows C0 controls and bidi overrides as visible escapes', () => {
    expect(terminalText('a\u001b[2Jb\u202ec')).toBe('a\\x1b[2Jb\\u{202e}c');
  });
});
