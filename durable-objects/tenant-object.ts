import { DurableObject } from "cloudflare:workers";

export class TenantObject extends DurableObject<Env> {
  async ping(): Promise<string> {
    return "pong";
  }
}
