import { sha256HexSync } from "../../core/sha256";
import { camelCase, constantCase, kebabCase, pascalCase, snakeCase } from "./case";
import { sortBy, unique } from "./collections";
import { formatInstant, parseInstant } from "./date";
import { KgenFilterError } from "./errors";
import {
  BUILTIN_PREFIXES,
  compactIri,
  expandIri,
  iriRef,
  localName,
  mergePrefixes,
  namespace,
  type PrefixMap,
  rdfTermKind,
  termValue,
  turtleLiteral,
  xsdType,
} from "./rdf";
import { SeededRandom } from "./seeded-random";
import { sortedJson } from "./sorted-json";
import { indent, quote, slug } from "./text";

// biome-ignore lint/suspicious/noExplicitAny: nunjucks calls filters with any arguments and `this` = its Context.
export type TemplateFunction = (this: unknown, ...args: any[]) => unknown;

export interface KgenEnvironmentOptions {
  /** The render's fixed build time, an ISO 8601 instant (see `buildTimeFromSourceDateEpoch`). */
  buildTime: string;
  /**
   * The render's seed, e.g. `deriveRenderSeed(templateHash, params)`; drives `random`. A function is
   * called once, when the render first draws a random value: a render that draws none never derives it.
   */
  seed: string | (() => string);
  /** Prefixes added to (or overriding) the built-in ones for this render. */
  prefixes?: Readonly<Record<string, string>>;
}

export interface KgenEnvironmentSpec {
  /** Register each with `env.addFilter(name, fn)`. */
  filters: Readonly<Record<string, TemplateFunction>>;
  /** Register each with `env.addGlobal(name, fn)`. */
  globals: Readonly<Record<string, TemplateFunction>>;
  /** The effective prefix map (built-ins merged with the render's). */
  prefixes: PrefixMap;
  /** The build time, normalised to `YYYY-MM-DDTHH:mm:ss.sssZ`. */
  buildTime: string;
}

/** The ISO build time for a `SOURCE_DATE_EPOCH` value (seconds since the epoch). */
export function buildTimeFromSourceDateEpoch(epochSeconds: string | number): string {
  const seconds = typeof epochSeconds === "number" ? epochSeconds : Number(epochSeconds.trim());
  if (!Number.isSafeInteger(seconds) || seconds < 0) {
    throw new KgenFilterError("buildTime", `SOURCE_DATE_EPOCH must be a non-negative integer, got ${epochSeconds}`);
  }
  return new Date(seconds * 1000).toISOString();
}

function hashFilter(value: unknown, length?: unknown): string {
  const digest = sha256HexSync(typeof value === "string" ? value : sortedJson(value, undefined, "hash"));
  if (length === undefined || length === null) return digest;
  if (typeof length !== "number" || !Number.isInteger(length) || length < 1 || length > 64) {
    throw new KgenFilterError("hash", `length must be an integer from 1 to 64, got ${String(length)}`);
  }
  return digest.slice(0, length);
}

function randomInteger(generator: SeededRandom, min: number, max: number): number {
  if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max < min || max - min >= 0x100000000) {
    throw new KgenFilterError("random", "bounds must be integers with min ≤ max and a range below 2^32");
  }
  return min + generator.nextInt(max - min + 1);
}

function optionalPrefixes(base: PrefixMap, extra: unknown): PrefixMap {
  if (extra === undefined || extra === null) return base;
  return mergePrefixes(base, extra as Record<string, unknown>);
}

/**
 * The filters and globals of a KGEN render. Everything is a pure function of the options and
 * of its arguments: no clock, no Math.random. `random` keeps state, so build one spec per render
 * (two renders with equal options then produce equal bytes).
 */
export function createKgenEnvironmentSpec(options: KgenEnvironmentOptions): KgenEnvironmentSpec {
  const seedOf = (seed: unknown): string => {
    if (typeof seed !== "string" || seed === "")
      throw new KgenFilterError("seed", "a non-empty seed string is required");
    return seed;
  };
  const seed = options.seed;
  if (typeof seed !== "function") seedOf(seed);
  const buildTimeMillis = parseInstant(options.buildTime, "buildTime");
  const buildTime = new Date(buildTimeMillis).toISOString();
  const prefixes = mergePrefixes(BUILTIN_PREFIXES, options.prefixes);
  let seeded: SeededRandom | undefined;
  const random = () => {
    seeded ??= new SeededRandom(seedOf(typeof seed === "function" ? seed() : seed));
    return seeded;
  };

  const filters: Record<string, TemplateFunction> = {
    camelCase,
    pascalCase,
    kebabCase,
    snakeCase,
    constantCase,
    hash: hashFilter,
    json: (value: unknown, indentation?: unknown) => sortedJson(value, indentation as number | string | undefined),
    indent,
    quote,
    slug,
    sortBy,
    unique,
    localName,
    namespace,
    compact: (iri: unknown, extra?: unknown) => compactIri(iri, optionalPrefixes(prefixes, extra)),
    prefixed: (iri: unknown, extra?: unknown) => compactIri(iri, optionalPrefixes(prefixes, extra)),
    expand: (curie: unknown, extra?: unknown) => expandIri(curie, optionalPrefixes(prefixes, extra)),
    uri: (iri: unknown, extra?: unknown) => iriRef(iri, optionalPrefixes(prefixes, extra)),
    literal: (value: unknown, datatypeOrLanguage?: unknown, language?: unknown) =>
      turtleLiteral(value, datatypeOrLanguage, language, prefixes),
    value: termValue,
    rdfType: (term: unknown) => rdfTermKind(term, prefixes),
    xsdType: (value: unknown) => xsdType(value, prefixes),
    date: (value: unknown, format?: unknown) =>
      formatInstant(value === undefined || value === null ? buildTimeMillis : parseInstant(value), format),
    random: (items: unknown) => {
      const list = typeof items === "string" ? Array.from(items) : Array.isArray(items) ? items : undefined;
      if (list === undefined) throw new KgenFilterError("random", "the random filter picks from an array or string");
      return list.length === 0 ? undefined : list[random().nextInt(list.length)];
    },
  };

  const globals: Record<string, TemplateFunction> = {
    now: (format?: unknown) => formatInstant(buildTimeMillis, format),
    date: (format?: unknown) => formatInstant(buildTimeMillis, format),
    random: (first?: unknown, second?: unknown) => {
      if (first === undefined) return random().next();
      if (second === undefined) return randomInteger(random(), 0, (first as number) - 1);
      return randomInteger(random(), first as number, second as number);
    },
  };

  return { filters: Object.freeze(filters), globals: Object.freeze(globals), prefixes, buildTime };
}

/** The part of a nunjucks-compatible Environment the spec needs. */
export interface FilterAndGlobalRegistry {
  addFilter(name: string, fn: TemplateFunction): unknown;
  addGlobal(name: string, value: unknown): unknown;
}

/** Registers a spec's filters and globals on an Environment (nunjucks or the eval-free engine). */
export function installKgenEnvironment<T extends FilterAndGlobalRegistry>(env: T, spec: KgenEnvironmentSpec): T {
  for (const name of Object.keys(spec.filters)) env.addFilter(name, spec.filters[name] as TemplateFunction);
  for (const name of Object.keys(spec.globals)) env.addGlobal(name, spec.globals[name]);
  return env;
}
