import { type Command, Option } from "commander";
import { buildGraphDiff, graphDiffToJson } from "../../shared/rdf/diff-format";
import { compareCodeUnits, quadToNTriplesLine } from "../../shared/rdf/ntriples";
import { validateShacl } from "../../shared/rdf/shacl";
import { runSparqlQuery } from "../../shared/rdf/sparql/engine";
import { SparqlError, SparqlSyntaxError } from "../../shared/rdf/sparql/errors";
import type { QueryResult } from "../../shared/rdf/sparql/execute/execute";
import { toSparqlCsv, toSparqlJson, toSparqlTsv, tsvTerm } from "../../shared/rdf/sparql/execute/results";
import { termToJson } from "../../shared/rdf/term-json";
import { CliError, EXIT } from "../exit-codes";
import { LOCAL_GRAPH, memoryStore, uploadToStore } from "../memory-graph";
import { colours, outputOf } from "../output";
import { readRdfFile, readTextFile } from "../rdf-files";
import { formatTable } from "../table";

const FILE_FORMATS = "RDF files are read by extension: .ttl .nt .nq .trig .jsonld (graph names are dropped).";

/** `kgen graph hash|diff|query|validate`: local RDF files through the platform's own store, engine and validator. */
export function registerGraphCommands(program: Command): void {
  const graph = program
    .command("graph")
    .description("Hash, compare, query and validate RDF files locally, as the platform would")
    .addHelpText("after", `\n${FILE_FORMATS}`);

  graph
    .command("hash")
    .description("Print the RDFC-1.0 hash (sha256:<hex>) the platform gives the same triples")
    .argument("<file>", "RDF file")
    .action(async (file: string, _options: unknown, command: Command) => {
      const version = await uploadToStore(memoryStore(), await readRdfFile(file));
      outputOf(command).result({ file, hash: version.hash, triples: version.tripleCount }, (value) => value.hash ?? "");
    });

  graph
    .command("diff")
    .description("Print the triples added and removed from <a> to <b> (blank nodes compared canonically)")
    .argument("<a>", "RDF file: the old graph")
    .argument("<b>", "RDF file: the new graph")
    .addHelpText("after", "\nExits 0 whether or not the graphs differ; read the counts (--json) to decide.")
    .action(async (a: string, b: string, _options: unknown, command: Command) => {
      const [before, after] = [await readRdfFile(a), await readRdfFile(b)];
      const store = memoryStore();
      const from = await uploadToStore(store, before);
      const to = await uploadToStore(store, after);
      const versions = store.diffVersions(LOCAL_GRAPH, from.number, to.number);
      const diff = buildGraphDiff(versions.added, versions.removed);
      const document = graphDiffToJson(diff);
      outputOf(command).result(
        { a, b, counts: document.counts, added: document.added, removed: document.removed },
        () => {
          const lines = [
            ...diff.removed.map((quad) => colours.red(`- ${quadToNTriplesLine(quad)}`)),
            ...diff.added.map((quad) => colours.green(`+ ${quadToNTriplesLine(quad)}`)),
          ];
          const summary = colours.dim(`# ${diff.added.length} added, ${diff.removed.length} removed`);
          return `${[...lines, summary].join("\n")}\n`;
        },
      );
    });

  graph
    .command("query")
    .description("Run a SPARQL 1.1 query over an RDF file with the platform's engine")
    .argument("<file>", "RDF file")
    .argument("<sparql>", "the query text, or @path to read it from a file (e.g. @query.rq)")
    .addOption(
      new Option("--format <format>", "SELECT/ASK results as")
        .choices(["table", "json", "csv", "tsv"])
        .default("table"),
    )
    .addHelpText(
      "after",
      "\nCONSTRUCT and DESCRIBE print N-Triples. With the global --json, SELECT/ASK print SPARQL results JSON and\nCONSTRUCT/DESCRIBE { triples: [...] }.",
    )
    .action(async (file: string, sparql: string, options: { format: string }, command: Command) => {
      const text = sparql.startsWith("@") ? readTextFile(sparql.slice(1), "query file") : sparql;
      const store = memoryStore();
      await uploadToStore(store, await readRdfFile(file));
      let result: QueryResult;
      try {
        result = runSparqlQuery(store, text, {
          dataset: { defaultGraph: [store.graphRef(LOCAL_GRAPH)], namedGraphs: [] },
          now: new Date(),
        });
      } catch (error) {
        if (error instanceof SparqlSyntaxError) {
          // sparqljs puts the excerpt and caret first and the reason last.
          const reason =
            error.message
              .split(/\r?\n/)
              .filter((line) => line.trim() !== "")
              .at(-1) ?? error.message;
          const where = error.line === null ? "query" : `query line ${error.line}`;
          throw new CliError(`${where}: ${reason}`, "check the SPARQL text");
        }
        if (error instanceof SparqlError) throw new CliError(`query: ${error.message}`, "check the SPARQL text");
        throw error;
      }
      const output = outputOf(command);
      if (result.type === "quads") {
        const lines = [...new Set(result.quads.map(quadToNTriplesLine))].sort(compareCodeUnits);
        const triples = result.quads.map((quad) => ({
          subject: termToJson(quad.subject),
          predicate: termToJson(quad.predicate),
          object: termToJson(quad.object),
        }));
        output.result({ triples }, () => lines.join("\n"));
        return;
      }
      const format = output.json ? "json" : options.format;
      if (format === "json") {
        // Already a JSON document: printed as is, so --json and --format json print the same object.
        process.stdout.write(`${toSparqlJson(result)}\n`);
        return;
      }
      const render = format === "csv" ? toSparqlCsv : format === "tsv" ? toSparqlTsv : resultTable;
      output.result(result, render);
    });

  graph
    .command("validate")
    .description("Validate an RDF file against SHACL shapes with the platform's validator")
    .argument("<file>", "RDF file: the data graph")
    .requiredOption("--shapes <file>", "RDF file: the SHACL shapes graph")
    .addHelpText("after", "\nExits 0 when the data conforms, 1 when it does not (the report says why).")
    .action(async (file: string, options: { shapes: string }, command: Command) => {
      const [data, shapes] = [await readRdfFile(file), await readRdfFile(options.shapes)];
      const report = await validateShacl(data, shapes);
      outputOf(command).result({ conforms: report.conforms, results: report.results }, (value) => {
        if (value.conforms) return `${colours.green("conforms")}: ${file} against ${options.shapes}`;
        const lines = value.results.map(
          (result) =>
            `${result.focusNode}${result.path ? ` ${result.path}` : ""}: ${result.message ?? localName(result.sourceConstraintComponent)}`,
        );
        return `${colours.red("does not conform")}: ${value.results.length} result(s)\n${lines.join("\n")}`;
      });
      if (!report.conforms) process.exitCode = EXIT.error;
    });
}

function localName(iri: string): string {
  return iri.slice(Math.max(iri.lastIndexOf("#"), iri.lastIndexOf("/")) + 1);
}

function resultTable(result: Exclude<QueryResult, { type: "quads" }>): string {
  if (result.type === "boolean") return String(result.value);
  const rows = result.bindings.map((row) =>
    result.variables.map((name) => {
      const term = row.get(name);
      return term ? tsvTerm(term) : "";
    }),
  );
  return formatTable(result.variables, rows);
}
