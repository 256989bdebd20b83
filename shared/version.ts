/** Version of the platform and of its generation engine; part of every lock and attestation. */
export const ENGINE_VERSION = "0.1.0";
