export type Align = 'left' | 'right'

/**
 * A Markdown table with padded columns: readable in a terminal and pasteable into an issue.
 * `align` defaults to left for the first column and right for the others.
 */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  align?: Align[],
): string {
  const columns = headers.length
  const alignments = align ?? headers.map((_, i): Align => (i === 0 ? 'left' : 'right'))
  const widths = headers.map((header, i) =>
    Math.max(3, header.length, ...rows.map((row) => (row[i] ?? '').length)),
  )
  const line = (cells: readonly string[]) =>
    `| ${Array.from({ length: columns }, (_, i) => {
      const cell = cells[i] ?? ''
      const width = widths[i] as number
      return alignments[i] === 'right' ? cell.padStart(width) : cell.padEnd(width)
    }).join(' | ')} |`
  const rule = `|${widths.map((width, i) => (alignments[i] === 'right' ? `${'-'.repeat(width + 1)}:` : `:${'-'.repeat(width + 1)}`)).join('|')}|`
  return [line(headers), rule, ...rows.map(line)].join('\n')
}
