import { env } from "cloudflare:workers";
import { newSealedWebhookSecret } from "../../../workers/webhooks/webhook-secret";

/** A new webhook secret sealed the way the API seals it, for tests that drive the tenant object directly. */
export const sealedSecret = (tenantId: string, webhookId: string) => newSealedWebhookSecret(env, tenantId, webhookId);
