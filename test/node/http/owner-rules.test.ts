import { describe, expect, it } from "vitest";
import { ROLES } from "../../../shared/contracts/roles";
import { externalRole, lastOwnerError, requireOwnerToChangeOwner } from "../../../workers/auth/owner-rules";

describe("externalRole", () => {
  it("a member row overrides the provider's claim, except that it never lowers an asserted owner", () => {
    for (const member of [...ROLES, undefined]) {
      expect(externalRole("owner", member)).toBe("owner");
    }
    expect(externalRole("admin", "viewer")).toBe("viewer");
    expect(externalRole("viewer", "owner")).toBe("owner");
    expect(externalRole(undefined, "editor")).toBe("editor");
    expect(externalRole("editor", undefined)).toBe("editor");
    expect(externalRole(undefined, undefined)).toBeUndefined();
  });
});

describe("owner rules", () => {
  it("only an owner may change an owner", () => {
    expect(() => requireOwnerToChangeOwner("owner")).not.toThrow();
    for (const role of ["admin", "editor", "viewer"] as const) {
      expect(() => requireOwnerToChangeOwner(role)).toThrow(
        expect.objectContaining({ status: 403, type: "insufficient-role" }),
      );
    }
  });

  it("the last-owner problem is a 409 with a stable type", () => {
    expect(lastOwnerError("remove")).toMatchObject({ status: 409, type: "last-owner" });
  });
});
