import { z } from "zod";
import { base64ToBytes, bytesToBase64Url, utf8 } from "../../shared/core/encoding";
import { HttpError } from "../problems/http-error";

export const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 200;

export const pageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
  cursor: z.string().max(512).optional(),
});
export type PageQuery = z.infer<typeof pageQuerySchema>;

/** A position in a list ordered by (createdAt, id), opaque to clients. */
export interface Cursor {
  createdAt: string;
  id: string;
}

export function encodeCursor(cursor: Cursor): string {
  return bytesToBase64Url(utf8(JSON.stringify([cursor.createdAt, cursor.id])));
}

export function decodeCursor(text: string): Cursor {
  try {
    const [createdAt, id] = JSON.parse(new TextDecoder().decode(base64ToBytes(text)));
    if (typeof createdAt === "string" && typeof id === "string") return { createdAt, id };
  } catch {
    // fall through to the error below
  }
  throw new HttpError(400, "validation-error", "Invalid request", "Invalid query: cursor.", {
    extensions: { errors: [{ field: "cursor", message: "Not a cursor returned by this API." }] },
  });
}

export interface Page<T, C = string> {
  items: T[];
  nextCursor: C | null;
}

/**
 * Given up to limit+1 rows (one more than the page, to know whether another follows), the page and
 * the cursor of the next one, taken from the page's last row.
 */
export function pageOf<T, U, C>(rows: T[], limit: number, map: (row: T) => U, cursorOf: (row: T) => C): Page<U, C> {
  const hasMore = rows.length > limit;
  const pageRows = hasMore ? rows.slice(0, limit) : rows;
  const last = pageRows.at(-1);
  return { items: pageRows.map(map), nextCursor: hasMore && last !== undefined ? cursorOf(last) : null };
}

/** A page of rows ordered by (createdAt, id), with the opaque cursor. */
export function toPage<T extends Cursor, U>(rows: T[], limit: number, map: (row: T) => U): Page<U> {
  return pageOf(rows, limit, map, encodeCursor);
}
