import type { TriggerFilter, TriggerVerifyScheme } from "../../shared/contracts/triggers";

/** GitHub deliveries act on these events when the trigger's filter names none. */
export const DEFAULT_GITHUB_EVENTS = ["push"] as const;

export interface DeliveryFacts {
  /** GitHub: `X-GitHub-Event`. Standard Webhooks: the payload's `type`, when it is a string. */
  event?: string;
  /** The payload's `ref`, when it is a string. */
  ref?: string;
}

export type FilterDecision = { accepted: true } | { accepted: false; reason: string };

/** Whether a verified delivery passes the trigger's filter, and why not. */
export function filterDelivery(
  verify: TriggerVerifyScheme,
  filter: TriggerFilter | null,
  facts: DeliveryFacts,
): FilterDecision {
  const events: readonly string[] | undefined =
    filter?.events ?? (verify === "github" ? DEFAULT_GITHUB_EVENTS : undefined);
  if (events !== undefined && (facts.event === undefined || !events.includes(facts.event))) {
    return {
      accepted: false,
      reason: `event ${JSON.stringify(facts.event ?? null)} is not one of ${events.join(", ")}`,
    };
  }
  if (filter?.ref !== undefined && facts.ref !== filter.ref) {
    return { accepted: false, reason: `ref ${JSON.stringify(facts.ref ?? null)} is not ${filter.ref}` };
  }
  return { accepted: true };
}
