import type * as RDF from "@rdfjs/types";
import { DataFactory, Writer } from "n3";

export const UB = "http://swat.cse.lehigh.edu/onto/univ-bench.owl#";
const RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
const XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer";

/** mulberry32: a small deterministic PRNG so generated datasets are identical run to run. */
function prng(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** ~680 triples per department: universities, departments, professors, students, courses, publications. */
export function* generateLubm(targetTriples: number, seed = 42): Generator<RDF.Quad> {
  const random = prng(seed);
  const { namedNode, literal, quad } = DataFactory;
  const type = namedNode(RDF_TYPE);
  const ub = (name: string) => namedNode(UB + name);
  const integer = (value: number) => literal(String(value), namedNode(XSD_INTEGER));
  const departments = Math.max(1, Math.round(targetTriples / 680));
  for (let d = 0; d < departments; d++) {
    const university = namedNode(`http://www.University${Math.floor(d / 15)}.edu`);
    const base = `http://www.Department${d % 15}.University${Math.floor(d / 15)}.edu/`;
    const department = namedNode(base);
    if (d % 15 === 0) {
      yield quad(university, type, ub("University"));
      yield quad(university, ub("name"), literal(`University${Math.floor(d / 15)}`));
    }
    yield quad(department, type, ub("Department"));
    yield quad(department, ub("subOrganizationOf"), university);
    const courses = Array.from({ length: 20 }, (_, i) => namedNode(`${base}Course${i}`));
    for (const [i, course] of courses.entries()) {
      yield quad(course, type, ub(i < 15 ? "Course" : "GraduateCourse"));
      yield quad(course, ub("name"), literal(`Course${i}`));
    }
    const professors = Array.from({ length: 10 }, (_, i) => namedNode(`${base}Professor${i}`));
    for (const [i, professor] of professors.entries()) {
      yield quad(professor, type, ub(i < 3 ? "FullProfessor" : i < 7 ? "AssociateProfessor" : "AssistantProfessor"));
      yield quad(professor, ub("worksFor"), department);
      yield quad(professor, ub("name"), literal(`Professor${i} of Department${d}`));
      yield quad(professor, ub("emailAddress"), literal(`professor${i}@department${d}.edu`));
      yield quad(professor, ub("age"), integer(30 + Math.floor(random() * 40)));
      yield quad(professor, ub("teacherOf"), courses[(i * 2) % 20] as RDF.NamedNode);
      yield quad(professor, ub("teacherOf"), courses[(i * 2 + 1) % 20] as RDF.NamedNode);
      if (i === 0) yield quad(professor, ub("headOf"), department);
    }
    for (let i = 0; i < 60; i++) {
      const student = namedNode(`${base}Student${i}`);
      yield quad(student, type, ub(i < 45 ? "UndergraduateStudent" : "GraduateStudent"));
      yield quad(student, ub("memberOf"), department);
      yield quad(student, ub("name"), literal(`Student${i} of Department${d}`));
      yield quad(student, ub("age"), integer(18 + Math.floor(random() * 15)));
      for (let c = 0; c < 3; c++) {
        yield quad(student, ub("takesCourse"), courses[Math.floor(random() * 20)] as RDF.NamedNode);
      }
      if (random() < 0.5) {
        yield quad(student, ub("advisor"), professors[Math.floor(random() * 10)] as RDF.NamedNode);
      }
    }
    for (let i = 0; i < 30; i++) {
      const publication = namedNode(`${base}Publication${i}`);
      yield quad(publication, type, ub("Publication"));
      yield quad(publication, ub("name"), literal(`Publication${i}`));
      yield quad(publication, ub("publicationAuthor"), professors[i % 10] as RDF.NamedNode);
      yield quad(publication, ub("publicationAuthor"), namedNode(`${base}Student${Math.floor(random() * 60)}`));
    }
  }
}

/**
 * The dataset as Turtle with one prefix per IRI namespace: about a third of its N-Triples size, so a
 * million triples fit in one request body of the largest plan.
 */
export function lubmTurtle(quads: readonly RDF.Quad[]): string {
  const namespaces = new Map<string, string>();
  for (const quad of quads) {
    for (const term of [quad.subject, quad.predicate, quad.object]) {
      if (term.termType !== "NamedNode") continue;
      const namespace = term.value.replace(/[^/#]*$/, "");
      if (!namespaces.has(namespace)) namespaces.set(namespace, `n${namespaces.size}`);
    }
  }
  const prefixes = Object.fromEntries([...namespaces].map(([namespace, prefix]) => [prefix, namespace]));
  const writer = new Writer({ format: "Turtle", prefixes });
  writer.addQuads([...quads]);
  let turtle = "";
  writer.end((error, result: string) => {
    if (error) throw error;
    turtle = result;
  });
  return turtle;
}
