import { z } from "zod";
import { roleSchema } from "./roles";

export const memberSchema = z
  .object({
    subject: z.string().describe("The identity provider's subject (`sub` claim)."),
    role: roleSchema,
    createdAt: z.string(),
  })
  .meta({ id: "Member" });

export const putMemberSchema = z.object({ role: roleSchema }).strict().meta({ id: "PutMember" });

export const auditEntrySchema = z
  .object({
    id: z.number().int(),
    actor: z.string(),
    action: z.string(),
    target: z.string().nullable(),
    requestId: z.string().nullable(),
    detail: z.record(z.string(), z.unknown()).nullable(),
    createdAt: z.string(),
  })
  .meta({ id: "AuditEntry" });
