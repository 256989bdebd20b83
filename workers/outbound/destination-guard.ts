import ipaddr from "ipaddr.js";

/**
 * Outbound requests to addresses a tenant chose (webhook destinations, documents fetched for a
 * trigger) must not reach the platform's own network or anything private. Workers egress through
 * Cloudflare and cannot route to private networks, so the guard refuses what can be decided from
 * the URL alone: non-HTTPS schemes, credentials in the URL, literal IP addresses outside the
 * public unicast space, and names that only resolve inside a network (`localhost`, `*.local`,
 * `*.internal`, single-label names). Redirects are followed by guardedFetch one hop at a time, and
 * each hop is checked again.
 */
export interface DestinationPolicy {
  /** Allow `http://localhost`, `http://127.0.0.1` and `http://[::1]` (with any port): development only. */
  allowLoopback: boolean;
}

export class UnsafeDestinationError extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`${reason}: ${url}`);
    this.name = "UnsafeDestinationError";
  }
}

const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "[::1]"]);
const INTERNAL_SUFFIXES = [".localhost", ".local", ".internal", ".intranet", ".lan", ".home.arpa", ".corp"];
export const MAX_DESTINATION_URL_LENGTH = 2048;

/** The policy of an environment: loopback destinations are allowed in `development` only. */
export function destinationPolicy(environment: string | undefined): DestinationPolicy {
  return { allowLoopback: environment === "development" };
}

/** Returns the parsed URL when a request to it is allowed; throws UnsafeDestinationError otherwise. */
export function checkDestination(raw: string, policy: DestinationPolicy): URL {
  if (raw.length > MAX_DESTINATION_URL_LENGTH) {
    throw new UnsafeDestinationError(raw.slice(0, 100), `URL is longer than ${MAX_DESTINATION_URL_LENGTH} characters`);
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UnsafeDestinationError(raw, "not an absolute URL");
  }
  if (url.username !== "" || url.password !== "") throw new UnsafeDestinationError(raw, "credentials in the URL");
  const host = url.hostname.toLowerCase();
  if (policy.allowLoopback && url.protocol === "http:" && LOOPBACK_NAMES.has(host)) return url;
  if (url.protocol !== "https:") throw new UnsafeDestinationError(raw, "only https destinations are allowed");
  const literal = host.startsWith("[") ? host.slice(1, -1) : host;
  if (ipaddr.isValid(literal)) {
    if (!isPublicAddress(literal)) {
      if (policy.allowLoopback && LOOPBACK_NAMES.has(host)) return url;
      throw new UnsafeDestinationError(raw, "the address is not a public unicast address");
    }
    return url;
  }
  if (/^[0-9.]+$/.test(host) || /^0x/i.test(host)) {
    // Shorthand IPv4 forms (`127.1`, `0x7f.1`) are normalized by the URL parser; anything left is refused.
    throw new UnsafeDestinationError(raw, "not a valid host name");
  }
  if (host === "localhost" || !host.includes(".") || INTERNAL_SUFFIXES.some((suffix) => host.endsWith(suffix))) {
    if (policy.allowLoopback && host === "localhost") return url;
    throw new UnsafeDestinationError(raw, "the host name is not public");
  }
  return url;
}

/** Public unicast only: no loopback, private, link-local, unique-local, multicast, reserved or mapped private. */
export function isPublicAddress(address: string): boolean {
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === "ipv6") {
    const v6 = parsed as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) parsed = v6.toIPv4Address();
  }
  return parsed.range() === "unicast";
}
