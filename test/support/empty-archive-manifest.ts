/** The manifest of a tenant archive that holds nothing but `entries`: the base of the archive-bounds tests. */
export function emptyArchiveManifest(tenantId: string, entries: { name: string; sha256: string; size: number }[]) {
  return {
    format: "kgen-tenant-archive",
    formatVersion: 1,
    tenantId,
    createdAt: "2026-01-01T00:00:00.000Z",
    counts: {
      graphs: 0,
      graphVersions: 0,
      templates: 0,
      generators: 0,
      jobs: 0,
      artifacts: 0,
      monitors: 0,
      webhooks: 0,
    },
    graphs: [],
    templates: [],
    generators: [],
    jobs: [],
    entries,
  };
}
