import {
  type GenerateAction,
  isSyncGraphAction,
  type SyncGraphAction,
  TRIGGER_JOB_PARAMS,
  type TriggerAction,
} from "../../shared/contracts/triggers";
import { resolveJsonPointer } from "../../shared/core/json-pointer";
import { expandUrlTemplate, UrlTemplateError } from "../../shared/core/url-template";
import { type PlanName, planLimits } from "../../shared/plans";
import type { RdfMediaType } from "../../shared/rdf/formats";
import type { JobRow } from "../db/schema";
import { startJob } from "../jobs/run-job";
import { destinationPolicy } from "../outbound/destination-guard";
import { guardedFetch, OutboundTimeoutError, ResponseTooLargeError } from "../outbound/guarded-fetch";
import type { LiveTenantRow } from "../repository/tenants";
import { ingestGraphDocument } from "../routes/graphs/graph-writes";

/** A verified delivery whose action cannot run: the reason goes to the sender and to `trigger.rejected`. */
export class DeliveryRejectedError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = "DeliveryRejectedError";
  }
}

/** Whole fetch of a synced document, redirects included. */
export const SYNC_FETCH_TIMEOUT_MS = 10_000;
/** Largest synced document, whatever the plan accepts as an upload: it is held in memory. */
export const SYNC_MAX_DOCUMENT_BYTES = 10 * 1024 * 1024;
export const SYNC_MAX_REDIRECTS = 3;

export interface DeliveryContext {
  deliveryId: string;
  /** GitHub push: the commit the ref moved to. */
  commit?: string;
  /** The delivery request's trace, carried by the job it starts. */
  traceparent?: string;
}

export interface ActionOutcome {
  job: JobRow | null;
  /** The synced graph's version, for syncGraph actions. */
  graphVersion?: { graph: string; version: number; created: boolean };
}

/** The job params: the action's pointers resolved in the payload, then the delivery id and commit. */
export function triggeredJobParams(
  pointers: Readonly<Record<string, string>> | undefined,
  payload: unknown,
  delivery: DeliveryContext,
): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const [name, pointer] of Object.entries(pointers ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const resolved = resolveJsonPointer(payload, pointer);
    if (!resolved.found) throw new DeliveryRejectedError(`params.${name}: ${pointer} is not in the payload`);
    params[name] = resolved.value;
  }
  params[TRIGGER_JOB_PARAMS.deliveryId] = delivery.deliveryId;
  if (delivery.commit !== undefined) params[TRIGGER_JOB_PARAMS.commit] = delivery.commit;
  return params;
}

async function generate(
  env: Env,
  tenant: LiveTenantRow,
  request: { graph: string; generator: string; params: Record<string, unknown> },
  traceparent: string | undefined,
): Promise<JobRow> {
  const pin = { kind: "catalog" as const, graph: request.graph, generator: request.generator };
  return startJob(env, tenant, pin, request.params, traceparent);
}

/** The document a syncGraph action names, fetched with the outbound guard on every hop. */
async function fetchDocument(env: Env, tenant: LiveTenantRow, action: SyncGraphAction, payload: unknown) {
  let url: string;
  try {
    url = expandUrlTemplate(action.syncGraph.urlTemplate, payload);
  } catch (error) {
    if (error instanceof UrlTemplateError) throw new DeliveryRejectedError(`urlTemplate: ${error.message}`);
    throw error;
  }
  const maxResponseBytes = Math.min(SYNC_MAX_DOCUMENT_BYTES, planLimits(tenant.plan as PlanName).maxRequestBodyBytes);
  try {
    const response = await guardedFetch(
      url,
      { method: "GET", headers: { accept: action.syncGraph.format, "user-agent": "kgen-edge-trigger" } },
      {
        policy: destinationPolicy(env.ENVIRONMENT as string),
        timeoutMs: SYNC_FETCH_TIMEOUT_MS,
        maxResponseBytes,
        maxRedirects: SYNC_MAX_REDIRECTS,
      },
    );
    if (response.status < 200 || response.status > 299)
      throw new DeliveryRejectedError(`GET ${response.url} answered ${response.status}`);
    return response.body;
  } catch (error) {
    if (error instanceof ResponseTooLargeError || error instanceof OutboundTimeoutError)
      throw new DeliveryRejectedError(`GET ${url}: ${error.message}`);
    if (error instanceof TypeError) throw new DeliveryRejectedError(`GET ${url} failed: ${error.message}`);
    throw error;
  }
}

/** Runs a verified, accepted delivery's action: a generation, or a graph sync and then maybe a generation. */
export async function runTriggerAction(
  env: Env,
  tenant: LiveTenantRow,
  action: TriggerAction,
  payload: unknown,
  delivery: DeliveryContext,
): Promise<ActionOutcome> {
  if (!isSyncGraphAction(action)) {
    const { generator, graph, params } = action as GenerateAction;
    return {
      job: await generate(
        env,
        tenant,
        { graph, generator, params: triggeredJobParams(params, payload, delivery) },
        delivery.traceparent,
      ),
    };
  }
  const params = triggeredJobParams(undefined, payload, delivery);
  const document = await fetchDocument(env, tenant, action, payload);
  const committed = await ingestGraphDocument(
    env,
    tenant,
    action.syncGraph.graph,
    action.syncGraph.format as RdfMediaType,
    new Response(document).body,
  );
  const graphVersion = {
    graph: action.syncGraph.graph,
    version: committed.version.version,
    created: committed.created,
  };
  if (action.generator === undefined) return { job: null, graphVersion };
  return {
    job: await generate(
      env,
      tenant,
      { graph: action.syncGraph.graph, generator: action.generator, params },
      delivery.traceparent,
    ),
    graphVersion,
  };
}
