/** One CSV record (RFC 4180): fields with a comma, a quote, CR or LF are quoted, quotes doubled; CRLF ends it. */
export function csvRecord(fields: readonly (string | number)[]): string {
  return `${fields.map(csvField).join(",")}\r\n`;
}

function csvField(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
