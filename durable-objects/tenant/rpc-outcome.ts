import { problemFromDomainError } from "../../workers/problems/domain-problems";
import { HttpError } from "../../workers/problems/http-error";

/** A problem as plain data, so it crosses the RPC boundary (class instances do not). */
export interface ProblemData {
  status: number;
  type: string;
  title: string;
  detail: string;
  extensions: Record<string, unknown>;
}

export type RpcOutcome<T> = { ok: true; value: T } | { ok: false; problem: ProblemData };

/** Runs an RPC body; expected failures (typed domain errors, HttpError) come back as data, the rest throws. */
export async function outcome<T>(body: () => T | Promise<T>): Promise<RpcOutcome<T>> {
  try {
    return { ok: true, value: await body() };
  } catch (error) {
    const problem = error instanceof HttpError ? error : problemFromDomainError(error);
    if (!problem) throw error;
    return {
      ok: false,
      problem: {
        status: problem.status,
        type: problem.type,
        title: problem.title,
        detail: problem.message,
        extensions: problem.extensions,
      },
    };
  }
}

/** Worker side: the value, or the problem thrown as the HttpError it was. */
export function unwrap<T>(result: RpcOutcome<T>): T {
  if (result.ok) return result.value;
  const { status, type, title, detail, extensions } = result.problem;
  throw new HttpError(status, type, title, detail, { extensions });
}
