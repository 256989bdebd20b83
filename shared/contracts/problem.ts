import { z } from "zod";

export const problemSchema = z
  .object({
    type: z.string().describe("Stable URI identifying the kind of problem."),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    requestId: z.string().optional(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: "Problem" });
