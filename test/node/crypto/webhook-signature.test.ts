import { createHmac } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { utf8 } from "../../../shared/core/encoding";
import {
  generateWebhookSecret,
  signGithubWebhook,
  signStandardWebhook,
  verifyGithubWebhook,
  verifyStandardWebhook,
  WebhookSecretError,
} from "../../../shared/crypto/webhook-signature";

const body = JSON.stringify({ specversion: "1.0", id: "7", type: "dev.kgen.job.completed", data: { ok: "é" } });

describe("Standard Webhooks signatures", () => {
  it("verify with the standardwebhooks package (the oracle), and the package's verify with ours", async () => {
    const secret = generateWebhookSecret();
    const now = Math.floor(Date.now() / 1000);
    const signature = await signStandardWebhook([secret], "msg_1", now, body);
    const headers = { "webhook-id": "msg_1", "webhook-timestamp": String(now), "webhook-signature": signature };
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));

    const theirs = new Webhook(secret).sign("msg_2", new Date(now * 1000), body);
    expect(
      await verifyStandardWebhook(secret, { id: "msg_2", timestamp: String(now), signature: theirs }, body, now),
    ).toEqual({
      ok: true,
    });
  });

  it("matches the specification's published test vector", async () => {
    // From the Standard Webhooks specification's reference libraries.
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const signature = await signStandardWebhook(
      [secret],
      "msg_p5jXN8AQM9LWM0D4loKWxJek",
      1614265330,
      '{"test": 2432232314}',
    );
    expect(signature).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  });

  it("signs with every secret during a rotation; either verifies", async () => {
    const [oldSecret, newSecret] = [generateWebhookSecret(), generateWebhookSecret()];
    const now = Math.floor(Date.now() / 1000);
    const signature = await signStandardWebhook([newSecret, oldSecret], "msg_3", now, body);
    expect(signature.split(" ")).toHaveLength(2);
    for (const secret of [oldSecret, newSecret]) {
      const headers = { "webhook-id": "msg_3", "webhook-timestamp": String(now), "webhook-signature": signature };
      expect(new Webhook(secret).verify(body, headers)).toBeTruthy();
    }
  });

  it("refuses a wrong secret, a changed body, a stale or future timestamp and missing headers", async () => {
    const secret = generateWebhookSecret();
    const now = 1_800_000_000;
    const signature = await signStandardWebhook([secret], "msg_4", now, body);
    const headers = { id: "msg_4", timestamp: String(now), signature };
    expect((await verifyStandardWebhook(generateWebhookSecret(), headers, body, now)).ok).toBe(false);
    expect((await verifyStandardWebhook(secret, headers, `${body} `, now)).ok).toBe(false);
    expect(await verifyStandardWebhook(secret, headers, body, now + 301)).toEqual({
      ok: false,
      reason: "webhook-timestamp is too far from now",
    });
    expect((await verifyStandardWebhook(secret, headers, body, now - 301)).ok).toBe(false);
    expect((await verifyStandardWebhook(secret, { ...headers, signature: null }, body, now)).ok).toBe(false);
    expect((await verifyStandardWebhook(secret, { ...headers, signature: "v1,%%%" }, body, now)).ok).toBe(false);
  });

  it("refuses malformed secrets", async () => {
    await expect(signStandardWebhook(["nope"], "m", 1, "")).rejects.toBeInstanceOf(WebhookSecretError);
    await expect(signStandardWebhook(["whsec_AAAA"], "m", 1, "")).rejects.toBeInstanceOf(WebhookSecretError);
  });
});

describe("GitHub signatures", () => {
  it("equal node:crypto's HMAC of the raw bytes, and verify only the exact body", async () => {
    const secret = "It's a Secret to Everybody";
    const raw = utf8("Hello, World!");
    // GitHub's documented example for this secret and payload.
    expect(await signGithubWebhook(secret, raw)).toBe(
      "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    );
    expect(await signGithubWebhook(secret, raw)).toBe(
      `sha256=${createHmac("sha256", secret).update(raw).digest("hex")}`,
    );
    const header = await signGithubWebhook(secret, raw);
    expect(await verifyGithubWebhook(secret, header, raw)).toEqual({ ok: true });
    expect((await verifyGithubWebhook(secret, header, utf8("Hello, World?"))).ok).toBe(false);
    expect((await verifyGithubWebhook("other", header, raw)).ok).toBe(false);
    expect((await verifyGithubWebhook(secret, null, raw)).ok).toBe(false);
  });
});
