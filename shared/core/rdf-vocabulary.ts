/** The RDF vocabularies the engine names, defined once: namespaces and the terms used in code. */

export const RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
export const RDFS_NS = "http://www.w3.org/2000/01/rdf-schema#";
export const XSD_NS = "http://www.w3.org/2001/XMLSchema#";
export const SH_NS = "http://www.w3.org/ns/shacl#";
export const OWL_NS = "http://www.w3.org/2002/07/owl#";

export const RDF_TYPE = `${RDF_NS}type`;
export const RDF_FIRST = `${RDF_NS}first`;
export const RDF_REST = `${RDF_NS}rest`;
export const RDF_NIL = `${RDF_NS}nil`;
export const RDF_LANG_STRING = `${RDF_NS}langString`;
export const RDF_DIR_LANG_STRING = `${RDF_NS}dirLangString`;
export const RDFS_LABEL = `${RDFS_NS}label`;

export const XSD = {
  string: `${XSD_NS}string`,
  boolean: `${XSD_NS}boolean`,
  integer: `${XSD_NS}integer`,
  decimal: `${XSD_NS}decimal`,
  float: `${XSD_NS}float`,
  double: `${XSD_NS}double`,
  dateTime: `${XSD_NS}dateTime`,
  date: `${XSD_NS}date`,
  dayTimeDuration: `${XSD_NS}dayTimeDuration`,
} as const;
export const XSD_STRING = XSD.string;
