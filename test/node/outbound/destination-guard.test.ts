import { describe, expect, it } from "vitest";
import {
  checkDestination,
  destinationPolicy,
  UnsafeDestinationError,
} from "../../../workers/outbound/destination-guard";

const production = destinationPolicy("production");
const development = destinationPolicy("development");

function refusal(url: string, policy = production): string {
  try {
    checkDestination(url, policy);
  } catch (error) {
    if (error instanceof UnsafeDestinationError) return error.reason;
    throw error;
  }
  return "allowed";
}

describe("checkDestination", () => {
  it("allows public https destinations", () => {
    expect(checkDestination("https://hooks.example.com/kgen?x=1", production).href).toBe(
      "https://hooks.example.com/kgen?x=1",
    );
    expect(refusal("https://93.184.215.14/hook")).toBe("allowed");
    expect(refusal("https://[2606:4700:4700::1111]/hook")).toBe("allowed");
  });

  it.each([
    ["http://hooks.example.com/", "only https destinations are allowed"],
    ["ftp://hooks.example.com/", "only https destinations are allowed"],
    ["https://user:pw@hooks.example.com/", "credentials in the URL"],
    ["https://127.0.0.1/", "the address is not a public unicast address"],
    ["https://127.1/", "the address is not a public unicast address"],
    ["https://0x7f000001/", "the address is not a public unicast address"],
    ["https://10.0.0.8/", "the address is not a public unicast address"],
    ["https://172.16.4.4/", "the address is not a public unicast address"],
    ["https://192.168.1.1/", "the address is not a public unicast address"],
    ["https://169.254.169.254/latest/meta-data", "the address is not a public unicast address"],
    ["https://100.64.0.1/", "the address is not a public unicast address"],
    ["https://0.0.0.0/", "the address is not a public unicast address"],
    ["https://[::1]/", "the address is not a public unicast address"],
    ["https://[fd00::1]/", "the address is not a public unicast address"],
    ["https://[fe80::1]/", "the address is not a public unicast address"],
    ["https://[::ffff:10.0.0.1]/", "the address is not a public unicast address"],
    ["https://localhost/", "the host name is not public"],
    ["https://metadata/", "the host name is not public"],
    ["https://db.internal/", "the host name is not public"],
    ["https://printer.local/", "the host name is not public"],
    ["not a url", "not an absolute URL"],
  ])("refuses %s in production", (url, reason) => {
    expect(refusal(url)).toBe(reason);
  });

  it("allows loopback over http in development only", () => {
    for (const url of ["http://localhost:8788/hook", "http://127.0.0.1:9000/", "http://[::1]:9000/"]) {
      expect(refusal(url, development)).toBe("allowed");
      expect(refusal(url, production)).toBe("only https destinations are allowed");
    }
    expect(refusal("http://10.0.0.1/", development)).toBe("only https destinations are allowed");
    expect(refusal("https://192.168.0.1/", development)).toBe("the address is not a public unicast address");
  });

  it("refuses overlong URLs", () => {
    expect(refusal(`https://example.com/${"a".repeat(3000)}`)).toMatch(/longer than/);
  });
});
