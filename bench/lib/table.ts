/**
 * Plain-text tables for the bench report: columns padded to their widest
 * cell, numbers right-aligned, so the table reads the same in a terminal,
 * in a commit message and in the README.
 */

export type Cell = string | number

/** Render rows (the first is the header) as a Markdown-compatible table. */
export function renderTable (rows: readonly (readonly Cell[])[]): string {
  const text = rows.map((r) => r.map((c) => String(c)))
  const widths: number[] = []
  for (const r of text) r.forEach((c, i) => { widths[i] = Math.max(widths[i] ?? 3, c.length) })
  const numeric = widths.map((_, i) => rows.slice(1).every((r) => typeof r[i] === 'number' || /^[\d.,×%<>≤≥ sMiB/-]*$/.test(String(r[i] ?? ''))))
  const line = (r: readonly string[]): string => '| ' + widths.map((w, i) => {
    const c = r[i] ?? ''
    return numeric[i] === true ? c.padStart(w) : c.padEnd(w)
  }).join(' | ') + ' |'
  const sep = '|' + widths.map((w, i) => numeric[i] === true ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 2)).join('|') + '|'
  return [line(text[0] ?? []), sep, ...text.slice(1).map(line)].join('\n')
}

/** 12345.6 → "12,346" */
export function formatInt (n: number): string {
  return Math.round(n).toLocaleString('en-US')
}
