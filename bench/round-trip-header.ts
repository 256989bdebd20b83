/** The response header in which the round-trip bench build reports a request's central calls (read by the bench in Node). */
export const CENTRAL_CALLS_HEADER = "x-bench-central-calls";
