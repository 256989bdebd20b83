/** A complete, valid Worker environment for Node tests: vars as wrangler.toml sets them, stand-in bindings. */
export function testEnvironment(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const binding = {};
  return {
    ENVIRONMENT: "development",
    JWT_ISSUER: "https://kgen.dev",
    JWT_AUDIENCE: "kgen-edge",
    JWT_KEY_VERSION: "1",
    AUTH_TENANT_CLAIM: "tenant",
    AUTH_ROLE_CLAIM: "role",
    AUTH_ALGORITHMS: "RS256,ES256,EdDSA",
    MAX_BODY_BYTES: "1048576",
    USAGE_FLUSH_DELAY_MS: "5000",
    MASTER_SECRET: "node-test-master-secret-0123456789abcdef",
    ADMIN_TOKEN: "node-test-admin-token",
    AUTH_ISSUER: "",
    AUTH_AUDIENCE: "",
    AUTH_JWKS_URL: "",
    AUTH_JWKS: "",
    DB: binding,
    ARTIFACTS: binding,
    TENANT: binding,
    GENERATE_QUEUE: binding,
    DRIFT_QUEUE: binding,
    DELIVER_QUEUE: binding,
    ABUSE_LIMITER: { limit: async () => ({ success: true }) },
    RATE_LIMIT_FREE: binding,
    RATE_LIMIT_STANDARD: binding,
    RATE_LIMIT_PREMIUM: binding,
    RATE_LIMIT_ENTERPRISE: binding,
    ...overrides,
  };
}
