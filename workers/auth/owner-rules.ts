import type { Role } from "../../shared/contracts/roles";
import { HttpError } from "../problems/http-error";

/** 403 unless the caller is an owner: only an owner grants, changes or removes the owner role. */
export function requireOwnerToChangeOwner(callerRole: Role): void {
  if (callerRole !== "owner") {
    throw new HttpError(403, "insufficient-role", "Forbidden", "Changing or removing an owner needs the owner role.");
  }
}

/**
 * 409 when a change would leave the tenant without a lasting owner: no owner API key without expiry
 * and no member with the owner role.
 */
export function lastOwnerError(change: "demote" | "remove"): HttpError {
  return new HttpError(
    409,
    "last-owner",
    "Last owner",
    `This would ${change} the tenant's last owner. Add another owner (an owner API key without expiry, or an owner member) first.`,
  );
}

/**
 * A role managed in KGEN (members) takes precedence over the identity provider's claim, except that
 * it never takes the owner role away from a subject the identity provider asserts as owner: only the
 * provider decides who its owners are, so a member row written by an admin cannot demote one.
 */
export function externalRole(claimed: Role | undefined, memberRole: Role | undefined): Role | undefined {
  if (claimed === "owner") return "owner";
  return memberRole ?? claimed;
}
