/**
 * A terminal screen as captured by `tmux capture-pane -e -p` (text with SGR colour escapes) turned into an
 * SVG picture: one positioned run of text per colour change, so columns line up whatever the font's width.
 */

interface Style {
  fg?: string;
  bg?: string;
  bold: boolean;
  dim: boolean;
  inverse: boolean;
  underline: boolean;
}

interface Run {
  readonly column: number;
  readonly text: string;
  readonly style: Style;
}

// xterm's default 16 colours, a little softened for a dark background.
const palette16 = ['#1e1e1e', '#e06c75', '#98c379', '#e5c07b', '#61afef', '#c678dd', '#56b6c2', '#d7dae0', '#5c6370', '#ff7a85', '#b5e890', '#ffd68a', '#7cc5ff', '#de9bf0', '#7fd7e0', '#ffffff'];
const defaultFg = '#d7dae0';
const defaultBg = '#1e1e1e';

function color256(n: number): string {
  if (n < 16) return palette16[n]!;
  if (n >= 232) {
    const level = 8 + (n - 232) * 10;
    return `rgb(${level},${level},${level})`;
  }
  const index = n - 16;
  const step = (value: number) => (value === 0 ? 0 : 55 + value * 40);
  return `rgb(${step(Math.floor(index / 36))},${step(Math.floor(index / 6) % 6)},${step(index % 6)})`;
}

function applySgr(style: Style, codes: number[]): Style {
  let next = { ...style };
  for (let i = 0; i < codes.length; i += 1) {
    const code = codes[i]!;
    if (code === 0) next = { bold: false, dim: false, inverse: false, underline: false };
    else if (code === 1) next.bold = true;
    else if (code === 2) next.dim = true;
    else if (code === 4) next.underline = true;
    else if (code === 7) next.inverse = true;
    else if (code === 22) next = { ...next, bold: false, dim: false };
    else if (code === 24) next.underline = false;
    else if (code === 27) next.inverse = false;
    else if (code >= 30 && code <= 37) next.fg = palette16[code - 30];
    else if (code >= 90 && code <= 97) next.fg = palette16[code - 90 + 8];
    else if (code === 39) delete next.fg;
    else if (code >= 40 && code <= 47) next.bg = palette16[code - 40];
    else if (code >= 100 && code <= 107) next.bg = palette16[code - 100 + 8];
    else if (code === 49) delete next.bg;
    else if ((code === 38 || code === 48) && codes[i + 1] === 5) {
      const value = color256(codes[i + 2] ?? 0);
      if (code === 38) next.fg = value;
      else next.bg = value;
      i += 2;
    } else if ((code === 38 || code === 48) && codes[i + 1] === 2) {
      const value = `rgb(${codes[i + 2] ?? 0},${codes[i + 3] ?? 0},${codes[i + 4] ?? 0})`;
      if (code === 38) next.fg = value;
      else next.bg = value;
      i += 4;
    }
  }
  return next;
}

/** Each screen line as runs of equally styled text; the style carries over line ends, as on a terminal. */
export function parseScreen(captured: string): Run[][] {
  let style: Style = { bold: false, dim: false, inverse: false, underline: false };
  return captured.replace(/\n$/, '').split('\n').map((line) => {
    const runs: Run[] = [];
    let column = 0;
    let text = '';
    let start = 0;
    const flush = () => {
      if (text) runs.push({ column: start, text, style });
      text = '';
      start = column;
    };
    for (const part of line.split(/(\x1b\[[0-9;]*[A-Za-z])/)) {
      const sgr = /^\x1b\[([0-9;]*)m$/.exec(part);
      if (sgr) {
        flush();
        style = applySgr(style, sgr[1] === '' ? [0] : sgr[1]!.split(';').map(Number));
      } else if (!part.startsWith('\x1b')) {
        for (const character of part) {
          text += character;
          column += 1;
        }
      }
    }
    flush();
    return runs;
  });
}

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function screenToSvg(captured: string, options: { columns: number; title?: string }): string {
  const lines = parseScreen(captured);
  const cell = { width: 8.4, height: 17 };
  const pad = 12;
  const width = Math.ceil(options.columns * cell.width + 2 * pad);
  const height = Math.ceil(lines.length * cell.height + 2 * pad);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="'DejaVu Sans Mono','Menlo','Consolas',monospace" font-size="14">`,
    ...(options.title ? [`<title>${escapeXml(options.title)}</title>`] : []),
    `<rect width="100%" height="100%" rx="6" fill="${defaultBg}"/>`,
  ];
  lines.forEach((runs, row) => {
    const y = pad + row * cell.height;
    for (const run of runs) {
      const fg = run.style.inverse ? (run.style.bg ?? defaultBg) : (run.style.fg ?? defaultFg);
      const bg = run.style.inverse ? (run.style.fg ?? defaultFg) : run.style.bg;
      const x = pad + run.column * cell.width;
      const length = [...run.text].length;
      if (bg) out.push(`<rect x="${x.toFixed(1)}" y="${y}" width="${(length * cell.width).toFixed(1)}" height="${cell.height}" fill="${bg}"/>`);
      if (!run.text.trim()) continue;
      const attributes = [`x="${x.toFixed(1)}"`, `y="${y + 13}"`, `fill="${fg}"`, `textLength="${(length * cell.width).toFixed(1)}"`, 'lengthAdjust="spacingAndGlyphs"'];
      if (run.style.bold) attributes.push('font-weight="bold"');
      if (run.style.dim) attributes.push('opacity="0.6"');
      if (run.style.underline) attributes.push('text-decoration="underline"');
      out.push(`<text xml:space="preserve" ${attributes.join(' ')}>${escapeXml(run.text)}</text>`);
    }
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
