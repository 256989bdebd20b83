import { HttpError } from "../problems/http-error";

/** Most bytes of rendered content one response carries (a preview, or a dry run with `include: ["content"]`). */
export const MAX_INLINE_CONTENT_BYTES = 4 * 1024 * 1024;

/** Refuses to answer with more rendered content than MAX_INLINE_CONTENT_BYTES (the work is done; the answer would be too big). */
export function assertInlineContentSize(sizes: readonly number[]): void {
  const total = sizes.reduce((sum, size) => sum + size, 0);
  if (total > MAX_INLINE_CONTENT_BYTES) {
    throw new HttpError(
      422,
      "content-too-large",
      "Rendered content too large",
      `The rendered content is ${total} bytes; at most ${MAX_INLINE_CONTENT_BYTES} bytes are returned inline. Start a job and read its artifacts instead.`,
      { extensions: { limit: MAX_INLINE_CONTENT_BYTES, size: total } },
    );
  }
}
