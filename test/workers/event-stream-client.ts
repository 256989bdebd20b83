import { createParser, type EventSourceMessage } from "eventsource-parser";

/** Reads a Server-Sent Events response the way EventSource would, waiting for what a test expects. */
export function sseClient(res: Response) {
  if (!res.body) throw new Error("no body");
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  const messages: EventSourceMessage[] = [];
  const comments: string[] = [];
  const parser = createParser({ onEvent: (message) => messages.push(message), onComment: (c) => comments.push(c) });
  let pending: Promise<ReadableStreamReadResult<Uint8Array>> | undefined;

  async function until(done: (seen: EventSourceMessage[]) => boolean, timeoutMs = 5_000) {
    const deadline = Date.now() + timeoutMs;
    while (!done(messages)) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`timed out; saw ${JSON.stringify(messages.map((m) => m.id))}`);
      pending ??= reader.read();
      const next = await Promise.race([
        pending,
        new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), Math.min(remaining, 100))),
      ]);
      if (next === "timeout") continue;
      pending = undefined;
      if (next.done) throw new Error("the stream ended");
      parser.feed(decoder.decode(next.value, { stream: true }));
    }
    return messages;
  }

  return { messages, comments, until, close: () => reader.cancel() };
}

/** The data of an SSE message as the CloudEvent it carries. */
export function cloudEventOf(message: EventSourceMessage) {
  return JSON.parse(message.data) as {
    id: string;
    type: string;
    source: string;
    subject?: string;
    data: Record<string, unknown>;
  };
}
