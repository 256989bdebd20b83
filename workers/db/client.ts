import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";

export type Database = DrizzleD1Database;

/**
 * One drizzle client per D1 binding or session, kept for as long as the binding lives: building one costs
 * more than a small query. Queries are built with the table objects (no relational `db.query` API), so the
 * client needs no schema.
 */
const clients = new WeakMap<D1Database | D1DatabaseSession, Database>();

export function database(d1: D1Database | D1DatabaseSession): Database {
  let client = clients.get(d1);
  if (!client) {
    client = drizzle(d1 as D1Database);
    clients.set(d1, client);
  }
  return client;
}
