// `npm run bench -- webhooks [events]`: outbound webhooks end to end through `wrangler dev` (the tenant
// Durable Object's event log, its fan-out alarm, the kgen-deliver queue and its consumer) to a receiver on
// 127.0.0.1. Each event is a real API call (PATCH of a second webhook appends `webhook.updated`); a
// subscribed webhook receives them. Measures event time (the CloudEvent's `time`, stamped by the Worker)
// to receipt, checks every signature with the standardwebhooks package and counts duplicates.
// Ends with {"bench":"webhooks","events":N,"delivered":…,"duplicates":…,"p50EventToDeliveryMs":…,"p99EventToDeliveryMs":…}.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";
import { callApi, createBenchTenant, startDevServer } from "./wrangler-dev";

const PORT = 8811;
const CONCURRENCY = 4;
/** How long to wait for the last deliveries after the last event was appended. */
const DRAIN_MS = 30_000;

interface Receipt {
  webhookId: string;
  eventTime: number;
  receivedAt: number;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

/** A receiver that checks each delivery's signature and notes when it arrived. */
async function startReceiver(secret: () => string | undefined) {
  const receipts: Receipt[] = [];
  const failures: string[] = [];
  const server = createServer(async (request, response) => {
    const receivedAt = Date.now();
    const body = await readBody(request);
    const headers = {
      "webhook-id": String(request.headers["webhook-id"] ?? ""),
      "webhook-timestamp": String(request.headers["webhook-timestamp"] ?? ""),
      "webhook-signature": String(request.headers["webhook-signature"] ?? ""),
    };
    try {
      const key = secret();
      if (key === undefined) throw new Error("a delivery arrived before the webhook was created");
      const event = new Webhook(key).verify(body, headers) as { time: string };
      receipts.push({ webhookId: headers["webhook-id"], eventTime: Date.parse(event.time), receivedAt });
      response.writeHead(204).end();
    } catch (error) {
      failures.push(String(error));
      response.writeHead(400).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, receipts, failures, close: () => server.close() };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

export default async function run(args: string[]): Promise<void> {
  const events = Number(args[0] ?? 1000);
  if (!Number.isInteger(events) || events < 1) throw new Error("events must be a positive integer");
  let secret: string | undefined;
  const receiver = await startReceiver(() => secret);
  const stateDir = mkdtempSync(join(tmpdir(), "kgen-bench-webhooks-"));
  const server = await startDevServer(stateDir, PORT);
  const api = (method: string, path: string, token: string, body?: unknown) =>
    callApi(server.url, method, path, token, body === undefined ? undefined : JSON.stringify(body));
  try {
    const apiKey = await createBenchTenant(server.url, {
      slug: `bench-webhooks-${Date.now()}`,
      name: "Bench",
      plan: "premium",
    });
    const subscribed = await api("POST", "/v1/webhooks", apiKey, { url: receiver.url, events: ["webhook.updated"] });
    secret = subscribed.secret;
    // The webhook whose changes are the events: subscribed to nothing that happens here.
    const changed = await api("POST", "/v1/webhooks", apiKey, {
      url: `${receiver.url}/unused`,
      events: ["job.failed"],
    });

    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let i = next++; i < events; i = next++) {
          await api("PATCH", `/v1/webhooks/${changed.id}`, apiKey, { description: `change ${i}` });
        }
      }),
    );
    const appendSeconds = (performance.now() - started) / 1000;
    const deadline = Date.now() + DRAIN_MS;
    while (new Set(receiver.receipts.map((r) => r.webhookId)).size < events && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // Late duplicates, if any, arrive right after.
    await new Promise((resolve) => setTimeout(resolve, 1000));

    const unique = new Set(receiver.receipts.map((r) => r.webhookId));
    const latencies = receiver.receipts.map((r) => r.receivedAt - r.eventTime).sort((a, b) => a - b);
    const result = {
      bench: "webhooks",
      events,
      delivered: unique.size,
      duplicates: receiver.receipts.length - unique.size,
      p50EventToDeliveryMs: percentile(latencies, 50),
      p99EventToDeliveryMs: percentile(latencies, 99),
    };
    console.log(`appended ${events} events in ${appendSeconds.toFixed(1)} s (${CONCURRENCY} clients)`);
    console.log(`received ${receiver.receipts.length} deliveries, ${receiver.failures.length} failed verification`);
    console.log(`event → delivery: max ${latencies.at(-1)} ms`);
    if (receiver.failures.length > 0) throw new Error(`signature check failed: ${receiver.failures[0]}`);
    console.log(JSON.stringify(result));
  } finally {
    server.stop();
    receiver.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}
