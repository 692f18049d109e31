/** Plain-text tables for the terminal (and for pasting into Markdown with `markdown: true`). */

export type Cell = string | number | null | undefined;

/** Formats a number with `digits` decimals; null/NaN as "–". */
export function fmt(v: number | null | undefined, digits = 1): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits);
}

/**
 * Renders rows under headers. Numbers are right-aligned, text left-aligned. With markdown,
 * a GitHub table (| a | b |).
 */
export function renderTable(headers: string[], rows: Cell[][], opts: { markdown?: boolean } = {}): string {
  const text = rows.map((r) => headers.map((_, i) => cellText(r[i])));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number' || r[i] === null || r[i] === undefined));
  if (opts.markdown) {
    const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
    return [line(headers), line(headers.map((_, i) => (numeric[i] ? '---:' : '---'))), ...text.map(line)].join('\n');
  }
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => r[i]!.length)));
  const pad = (s: string, i: number) => (numeric[i] ? s.padStart(widths[i]!) : s.padEnd(widths[i]!));
  const out = [headers.map(pad).join('  '), widths.map((w) => '-'.repeat(w)).join('  '), ...text.map((r) => r.map(pad).join('  '))];
  return out.map((l) => l.trimEnd()).join('\n');
}

function cellText(v: Cell): string {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '–';
  return v;
}
