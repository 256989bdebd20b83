import { describe, expect, it } from "vitest";
import { DEV_MASTER_SECRET } from "../../../workers/auth/config";
import {
  assertValidEnvironment,
  environmentProblems,
  InvalidEnvironmentError,
} from "../../../workers/config/env-config";
import { testEnvironment } from "./test-environment";

describe("environment configuration", () => {
  it("accepts the environment wrangler.toml and the secrets give", () => {
    expect(environmentProblems(testEnvironment())).toEqual([]);
    expect(environmentProblems(testEnvironment({ ENVIRONMENT: "production", ADMIN_TOKEN: undefined }))).toEqual([]);
  });

  it("names a missing setting", () => {
    expect(environmentProblems(testEnvironment({ MASTER_SECRET: undefined }))).toEqual(["MASTER_SECRET: missing"]);
    expect(environmentProblems(testEnvironment({ DB: undefined }))).toEqual(["DB: the D1 binding is missing"]);
    expect(environmentProblems(testEnvironment({ JWT_ISSUER: undefined }))).toEqual(["JWT_ISSUER: missing"]);
    expect(environmentProblems(testEnvironment({ METRICS: undefined }))).toEqual([
      "METRICS: the Analytics Engine binding is missing",
    ]);
    expect(environmentProblems(testEnvironment({ METRICS_OBJECT: undefined }))).toEqual([
      "METRICS_OBJECT: the Durable Object binding is missing",
    ]);
    expect(environmentProblems(testEnvironment({ METRICS_FLUSH_DELAY_MS: "0" }))).toEqual([
      "METRICS_FLUSH_DELAY_MS: a positive integer",
    ]);
  });

  it("names a malformed setting, one line each", () => {
    const problems = environmentProblems(
      testEnvironment({
        ENVIRONMENT: "prod",
        JWT_KEY_VERSION: "0",
        MAX_BODY_BYTES: "10MB",
        USAGE_FLUSH_DELAY_MS: "-1",
        MASTER_SECRET: "short",
        AUTH_JWKS_URL: "ftp://idp.example/jwks",
        AUTH_JWKS: "{not json",
        AUTH_ALGORITHMS: "RS256;ES256",
      }),
    );
    expect(problems.map((line) => line.split(":")[0]).sort()).toEqual([
      "AUTH_ALGORITHMS",
      "AUTH_JWKS",
      "AUTH_JWKS_URL",
      "ENVIRONMENT",
      "JWT_KEY_VERSION",
      "MASTER_SECRET",
      "MAX_BODY_BYTES",
      "USAGE_FLUSH_DELAY_MS",
    ]);
    expect(problems).toContain("MAX_BODY_BYTES: a positive integer");
    expect(problems).toContain("MASTER_SECRET: must be at least 32 characters");
  });

  it("refuses the development master secret in production only", () => {
    expect(environmentProblems(testEnvironment({ MASTER_SECRET: DEV_MASTER_SECRET }))).toEqual([]);
    expect(
      environmentProblems(testEnvironment({ ENVIRONMENT: "production", MASTER_SECRET: DEV_MASTER_SECRET })),
    ).toEqual(["MASTER_SECRET: is the development secret in production"]);
  });

  it("throws a 500 misconfigured problem naming the setting, every time for the same environment", () => {
    const env = testEnvironment({ JWT_AUDIENCE: "" }) as unknown as Env;
    for (let attempt = 0; attempt < 2; attempt += 1) {
      let thrown: unknown;
      try {
        assertValidEnvironment(env);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(InvalidEnvironmentError);
      expect((thrown as InvalidEnvironmentError).status).toBe(500);
      expect((thrown as InvalidEnvironmentError).type).toBe("misconfigured");
      expect((thrown as Error).message).toContain("JWT_AUDIENCE");
    }
    expect(() => assertValidEnvironment(testEnvironment() as unknown as Env)).not.toThrow();
  });
});
