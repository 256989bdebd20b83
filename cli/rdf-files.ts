import { readFileSync } from "node:fs";
import { extname } from "node:path";
import type { Quad } from "n3";
import { RdfSyntaxError } from "../shared/rdf/errors";
import { parseRdf, RDF_MEDIA_TYPES, type RdfMediaType } from "../shared/rdf/formats";
import { CliError } from "./exit-codes";

/** The RDF format each file extension stands for. */
export const RDF_FILE_EXTENSIONS: Readonly<Record<string, RdfMediaType>> = {
  ".ttl": RDF_MEDIA_TYPES.turtle,
  ".nt": RDF_MEDIA_TYPES.ntriples,
  ".nq": RDF_MEDIA_TYPES.nquads,
  ".trig": RDF_MEDIA_TYPES.trig,
  ".jsonld": RDF_MEDIA_TYPES.jsonld,
};

const EXTENSION_LIST = Object.keys(RDF_FILE_EXTENSIONS).join(" ");

/** Reads a text file for a command, or fails with one line naming the file and a hint. */
export function readTextFile(path: string, what = "file"): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT")
      throw new CliError(`${path}: no such ${what}`, "check the path (relative to the current directory)");
    if (code === "EISDIR") throw new CliError(`${path}: is a directory, not a ${what}`, "name a file");
    throw new CliError(`${path}: cannot read it (${code ?? String(error)})`, "check the file's permissions");
  }
}

/** The format of an RDF file, from its extension. */
export function rdfFormatOf(path: string): RdfMediaType {
  const format = RDF_FILE_EXTENSIONS[extname(path).toLowerCase()];
  if (!format) {
    throw new CliError(`${path}: unknown RDF file extension`, `name the file with one of: ${EXTENSION_LIST}`);
  }
  return format;
}

/** Parses an RDF file by its extension, as the platform parses an upload; a syntax error names the file and line. */
export async function readRdfFile(path: string): Promise<Quad[]> {
  const format = rdfFormatOf(path);
  const text = readTextFile(path);
  try {
    return await parseRdf(text, format);
  } catch (error) {
    if (error instanceof RdfSyntaxError) {
      const where = error.line === undefined ? path : `${path}:${error.line}`;
      throw new CliError(`${where}: ${firstLine(error.message)}`, "fix the RDF syntax at that line");
    }
    if (error instanceof Error) throw new CliError(`${path}: ${firstLine(error.message)}`, "fix the RDF document");
    throw error;
  }
}

function firstLine(text: string): string {
  return text.split(/\r?\n/, 1)[0] ?? text;
}
