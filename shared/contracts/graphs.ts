import { z } from "zod";

/** A tenant's graph name: 1–128 of letters, digits, '.', '_', '-', starting with a letter or digit. */
export const GRAPH_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export const graphNameSchema = z.string().regex(GRAPH_NAME, "1–128 of letters, digits, '.', '_', '-'");
