import { problemFromDomainError } from "../problems/domain-problems";
import { HttpError } from "../problems/http-error";

/**
 * What a failed job tells its owner: the wording of a problem we raised on purpose (HttpError or a typed
 * domain error), never the text of an unexpected error, which goes to the log only.
 */
export function jobFailureReason(error: unknown): string {
  const problem = error instanceof HttpError ? error : problemFromDomainError(error);
  if (problem) return problem.message;
  return "An internal error stopped the batch; it is retried, and the log has the details.";
}
