import { authenticate } from "../auth/authenticate";
import { planBodyLimit } from "./plan-body-limit";
import { meterRequest } from "./request-metering";
import { tenantRateLimit } from "./tenant-rate-limit";

/**
 * What every tenant route runs before its own checks, in this order: who is calling, the tenant's
 * request rate (a refused request is not metered), metering of the answer, and the plan's body limit.
 * Spread it first in a route's middleware: `[...tenantRequest, requireRole("viewer")]`.
 */
export const tenantRequest = [authenticate, tenantRateLimit, meterRequest, planBodyLimit] as const;
