/** Version of the platform and of its generation engine; part of every lock and attestation. */
export const ENGINE_VERSION = "0.2.0";

/**
 * Engine versions whose locks the platform replays: an attestation states the engine version, so
 * only versions this engine renders byte for byte belong here. A later engine keeps an earlier
 * version in the list only while it still produces that version's output unchanged.
 */
export const SUPPORTED_ENGINE_VERSIONS: readonly string[] = ["0.1.0", ENGINE_VERSION];
