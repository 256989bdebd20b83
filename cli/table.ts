/** Columns aligned with spaces under a header and a rule, for people reading a terminal. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join("  ")
      .trimEnd();
  const rule = widths.map((width) => "-".repeat(width)).join("  ");
  const count = `${rows.length} row${rows.length === 1 ? "" : "s"}`;
  return `${[line(headers), rule, ...rows.map(line), count].join("\n")}\n`;
}
