/** One printed figure: what was measured, its target and whether it was met (informational figures have no target). */
export interface Figure {
  name: string;
  measured: string;
  target?: string;
  pass?: boolean;
  note?: string;
}

export const figure = (name: string, measured: string, target?: { text: string; pass: boolean }, note?: string): Figure => ({
  name,
  measured,
  ...(target ? { target: target.text, pass: target.pass } : {}),
  ...(note ? { note } : {}),
});

export const num = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** The figures as an aligned text table, one line each: figure, measured, target, PASS/MISS (or "info"). */
export function formatTable(figures: Figure[]): string {
  const rows = figures.map((f) => [f.name, f.measured, f.target ?? '', f.pass === undefined ? 'info' : f.pass ? 'PASS' : 'MISS']);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length), ['figure', 'measured', 'target'][i]!.length));
  const line = (r: string[]) => r.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell)).join('  ');
  const notes = figures.flatMap((f) => (f.note ? [`  - ${f.name}: ${f.note}`] : []));
  return [line(['figure', 'measured', 'target', '']), ...rows.map(line), ...(notes.length ? ['', 'notes:', ...notes] : [])].join('\n');
}

/** The same figures as a Markdown table, for the README. */
export function formatMarkdown(figures: Figure[], machine: string): string {
  const rows = figures.map(
    (f, i) =>
      `| ${f.name} | ${f.measured} | ${f.target ?? '–'} | ${f.pass === undefined ? 'info' : f.pass ? 'PASS' : '**MISS**'} | ${i === 0 ? machine : 'same'} |`,
  );
  return ['| figure | measured | target | result | machine |', '|---|---|---|---|---|', ...rows].join('\n');
}
