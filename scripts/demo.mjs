// `npm run demo`: the whole KGEN loop against the server `npm start` runs (or KGEN_URL):
// tenant → graph → generator → generation → one attestation verified by the API and offline.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { importJWK } from "jose";

const api = process.env.KGEN_URL ?? "http://localhost:8787";
const adminToken = process.env.ADMIN_TOKEN ?? "kgen-dev-admin";
const example = join(import.meta.dirname, "..", "examples", "shop");

async function request(method, path, { token, body, contentType } = {}) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = contentType ?? "application/json";
  const res = await fetch(`${api}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${text}`);
  return text && res.headers.get("content-type")?.includes("json") ? JSON.parse(text) : text;
}

const step = (text) => console.log(`\n▸ ${text}`);

try {
  await request("GET", "/v1/health");
} catch (error) {
  console.error(`No KGEN Edge server at ${api} (${error.message}). Start one with \`npm start\` first.`);
  process.exit(1);
}

step("Create a tenant (operator)");
const slug = `demo-${Date.now().toString(36)}`;
const { tenant, secret: apiKey } = await request("POST", "/v1/tenants", {
  token: adminToken,
  body: { slug, name: "Demo Shop", plan: "standard" },
});
console.log(`  tenant ${tenant.id} (${slug}); owner API key ${apiKey.slice(0, 12)}…`);

step("Upload the domain model graph (examples/shop/model.ttl)");
const graph = await request("PUT", "/v1/graphs/shop", {
  token: apiKey,
  body: readFileSync(join(example, "model.ttl"), "utf8"),
  contentType: "text/turtle",
});
console.log(`  shop version ${graph.version}: ${graph.triples} triples, ${graph.hash}`);

step("Upload the generator (examples/shop/generator)");
for (const file of readdirSync(join(example, "generator")).sort()) {
  const template = await request("PUT", `/v1/templates/app/${file}`, {
    token: apiKey,
    body: readFileSync(join(example, "generator", file), "utf8"),
    contentType: "text/plain",
  });
  console.log(`  ${file.padEnd(18)} ${template.hash.slice(0, 16)}…  reads: ${template.variables.join(", ") || "—"}`);
}

step("Generate");
const started = await request("POST", "/v1/jobs", {
  token: apiKey,
  body: { graph: "shop", generator: "app", params: { title: "Shop API" } },
});
// The job is planned and rendered on the queue: wait until it has run.
let job = started;
while (job.status === "queued" || job.status === "running") {
  await new Promise((resolve) => setTimeout(resolve, 200));
  job = await request("GET", `/v1/jobs/${started.id}`, { token: apiKey });
}
if (job.status !== "completed") throw new Error(`job ${job.status}: ${job.error}`);
console.log(
  `  job ${job.id}: ${job.status}, ${job.counts.artifacts} artifacts, ${job.counts.bytes} bytes, lock ${job.lockHash.slice(0, 16)}…`,
);
const { items } = await request("GET", `/v1/jobs/${job.id}/artifacts`, { token: apiKey });
for (const artifact of items)
  console.log(`  ${artifact.path.padEnd(24)} ${artifact.sha256.slice(0, 16)}…  ${artifact.size} B`);

step("Verify one attestation");
const artifact = items.find((a) => a.path === "src/types/OrderLine.ts") ?? items[0];
const envelope = await request("GET", `/v1/artifacts/${artifact.id}/attestation`, { token: apiKey });
const verdict = await request("POST", "/v1/verify", { token: apiKey, body: { artifact: artifact.id, envelope } });
console.log(`  the API says: ${verdict.valid ? "valid" : `INVALID (${verdict.reasons.join(", ")})`}`);
const jwks = await request("GET", `/v1/tenants/${tenant.id}/jwks.json`);
const b64 = (text) => Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));
const payload = b64(envelope.payload);
const type = new TextEncoder().encode(envelope.payloadType);
const pae = new Uint8Array([
  ...new TextEncoder().encode(`DSSEv1 ${type.length} `),
  ...type,
  ...new TextEncoder().encode(` ${payload.length} `),
  ...payload,
]);
const { keyid, sig } = envelope.signatures[0];
const key = await importJWK(
  jwks.keys.find((k) => k.kid === keyid),
  "EdDSA",
);
const signatureOk = await crypto.subtle.verify("Ed25519", key, b64(sig), pae);
const bytes = new Uint8Array(
  await (
    await fetch(`${api}/v1/artifacts/${artifact.id}`, { headers: { authorization: `Bearer ${apiKey}` } })
  ).arrayBuffer(),
);
const digest = Buffer.from(await crypto.subtle.digest("SHA-256", bytes)).toString("hex");
const subject = JSON.parse(new TextDecoder().decode(payload)).subject[0];
console.log(
  `  offline with jose + JWKS: signature ${signatureOk ? "ok" : "BAD"}, subject ${subject.name} ${digest === subject.digest.sha256 ? "matches" : "DOES NOT match"} the bytes`,
);

step("Where everything is");
console.log(`  export KEY=${apiKey}`);
console.log(`  job:          ${api}/v1/jobs/${job.id}`);
console.log(`  artifacts:    ${api}/v1/jobs/${job.id}/artifacts`);
console.log(`  one artifact: ${api}/v1/artifacts/${artifact.id}   (explain: …/explain, attestation: …/attestation)`);
console.log(`  bundle (zip): ${api}/v1/jobs/${job.id}/bundle`);
console.log(`  public keys:  ${api}/v1/tenants/${tenant.slug}/jwks.json`);
console.log(`  SPARQL:       ${api}/v1/graphs/shop/sparql?query=…`);
if (!verdict.valid || !signatureOk || digest !== subject.digest.sha256) process.exit(1);
