import { and, asc, eq, gt, gte, lt, or, sql } from "drizzle-orm";
import type { RenderOptions } from "../../shared/contracts/lock";
import type { Database } from "../db/client";
import { auditLog, generatorSettings, type TemplateRow, templates } from "../db/schema";

export interface TemplatePosition {
  generator: string;
  path: string;
}

/** A tenant's templates (metadata in D1; sources in R2 by hash). Scoped to one tenant. */
export class TemplateCatalog {
  constructor(
    private readonly db: Database,
    readonly tenantId: string,
  ) {}

  async find(generator: string, path: string): Promise<TemplateRow | undefined> {
    return this.db
      .select()
      .from(templates)
      .where(and(eq(templates.tenantId, this.tenantId), eq(templates.generator, generator), eq(templates.path, path)))
      .get();
  }

  /** Inserts or replaces the template at (generator, path), with its audit record, in one batch. */
  async put(row: Omit<TemplateRow, "tenantId">, actor: string, requestId: string): Promise<void> {
    const values: TemplateRow = { ...row, tenantId: this.tenantId };
    await this.db.batch([
      this.db
        .insert(templates)
        .values(values)
        .onConflictDoUpdate({
          target: [templates.tenantId, templates.generator, templates.path],
          set: {
            hash: values.hash,
            size: values.size,
            frontmatter: values.frontmatter,
            variables: values.variables,
            updatedAt: values.updatedAt,
          },
        }),
      this.db.insert(auditLog).values({
        tenantId: this.tenantId,
        actor,
        action: "template.put",
        target: `${row.generator}/${row.path}`,
        requestId,
        detail: { hash: row.hash },
        createdAt: row.updatedAt,
      }),
    ]);
  }

  /** Deletes the template with its audit record; whether there was one to delete. */
  async delete(generator: string, path: string, actor: string, requestId: string, now: string): Promise<boolean> {
    const exists = and(
      eq(templates.tenantId, this.tenantId),
      eq(templates.generator, generator),
      eq(templates.path, path),
    );
    const [deleted] = await this.db.batch([
      this.db.delete(templates).where(exists).returning({ path: templates.path }),
      this.db.insert(auditLog).values({
        tenantId: this.tenantId,
        actor,
        action: "template.delete",
        target: `${generator}/${path}`,
        requestId,
        createdAt: now,
      }),
    ]);
    return deleted.length > 0;
  }

  /** Templates ordered by (generator, path), optionally of one generator. */
  async list(limit: number, options: { generator?: string; after?: TemplatePosition } = {}): Promise<TemplateRow[]> {
    const { generator, after } = options;
    return this.db
      .select()
      .from(templates)
      .where(
        and(
          eq(templates.tenantId, this.tenantId),
          generator === undefined ? undefined : eq(templates.generator, generator),
          after
            ? or(
                gt(templates.generator, after.generator),
                and(eq(templates.generator, after.generator), gt(templates.path, after.path)),
              )
            : undefined,
        ),
      )
      .orderBy(asc(templates.generator), asc(templates.path))
      .limit(limit + 1)
      .all();
  }

  /** The generator's template paths and hashes, without the rest of the rows. */
  async hashesOf(generator: string): Promise<Map<string, string>> {
    const rows = await this.db
      .select({ path: templates.path, hash: templates.hash })
      .from(templates)
      .where(and(eq(templates.tenantId, this.tenantId), eq(templates.generator, generator)))
      .all();
    return new Map(rows.map((row) => [row.path, row.hash]));
  }

  /**
   * Which of the given (path, hash) pairs were ever put in the generator: its current templates
   * and, for earlier contents, the `template.put` records of the audit log (the only history kept),
   * read in one query over the generator's targets. Returns the pairs found, as `path\nhash`.
   */
  async everPut(generator: string, pairs: ReadonlyArray<{ path: string; hash: string }>): Promise<Set<string>> {
    const key = (path: string, hash: string) => `${path}\n${hash}`;
    const found = new Set<string>();
    for (const [path, hash] of await this.hashesOf(generator)) found.add(key(path, hash));
    if (pairs.every((pair) => found.has(key(pair.path, pair.hash)))) return found;
    // Targets are `generator/path`: the range ["generator/", "generator0") holds exactly this generator's.
    const rows = await this.db
      .select({ target: auditLog.target, detail: auditLog.detail })
      .from(auditLog)
      .where(
        and(
          eq(auditLog.tenantId, this.tenantId),
          eq(auditLog.action, "template.put"),
          gte(auditLog.target, `${generator}/`),
          lt(auditLog.target, `${generator}0`),
        ),
      )
      .all();
    for (const row of rows) {
      const hash = row.detail?.hash;
      if (typeof hash === "string" && row.target !== null) found.add(key(row.target.slice(generator.length + 1), hash));
    }
    return found;
  }

  async generators(limit: number, after?: string) {
    return this.db
      .select({
        name: templates.generator,
        templates: sql<number>`count(*)`,
        updatedAt: sql<string>`max(${templates.updatedAt})`,
      })
      .from(templates)
      .where(and(eq(templates.tenantId, this.tenantId), after ? gt(templates.generator, after) : undefined))
      .groupBy(templates.generator)
      .orderBy(asc(templates.generator))
      .limit(limit + 1)
      .all();
  }

  /** Every template of one generator, ordered by path (the generator's definition), and its render options, in one round trip. */
  async generatorWithOptions(name: string): Promise<{ templates: TemplateRow[]; options: RenderOptions }> {
    const [rows, settings] = await this.db.batch([
      this.db
        .select()
        .from(templates)
        .where(and(eq(templates.tenantId, this.tenantId), eq(templates.generator, name)))
        .orderBy(asc(templates.path)),
      this.db
        .select({ options: generatorSettings.options })
        .from(generatorSettings)
        .where(and(eq(generatorSettings.tenantId, this.tenantId), eq(generatorSettings.generator, name))),
    ]);
    return { templates: rows, options: settings[0]?.options ?? {} };
  }

  /** Sets the generator's render options, with its audit record, in one batch. */
  async setGeneratorOptions(
    name: string,
    options: RenderOptions,
    actor: string,
    requestId: string,
    now: string,
  ): Promise<void> {
    await this.db.batch([
      this.db
        .insert(generatorSettings)
        .values({ tenantId: this.tenantId, generator: name, options, updatedAt: now })
        .onConflictDoUpdate({
          target: [generatorSettings.tenantId, generatorSettings.generator],
          set: { options, updatedAt: now },
        }),
      this.db.insert(auditLog).values({
        tenantId: this.tenantId,
        actor,
        action: "generator.settings",
        target: name,
        requestId,
        detail: { options },
        createdAt: now,
      }),
    ]);
  }

  /** The source hash of every current template, at most `limit` (the blobs the catalog references). */
  async sourceHashes(limit: number): Promise<string[]> {
    const rows = await this.db
      .selectDistinct({ hash: templates.hash })
      .from(templates)
      .where(eq(templates.tenantId, this.tenantId))
      .limit(limit)
      .all();
    return rows.map((row) => row.hash);
  }
}
