/**
 * A strict reader of the Prometheus text exposition format 0.0.4 (no parser package is installed):
 * every line is a `# HELP`, a `# TYPE` or a sample `name{label="value",…} number`; a metric's HELP and
 * TYPE come once, before its samples; label values use only the `\\`, `\"`, `\n` escapes; sample names
 * belong to the declared family (`_bucket`/`_sum`/`_count` for histograms). Throws on the first violation.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  types: Map<string, string>;
  samples: Sample[];
}

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`);
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/;

export function parseExposition(text: string): Exposition {
  if (!text.endsWith("\n")) throw new Error("the exposition must end with a line feed");
  const types = new Map<string, string>();
  const helped = new Set<string>();
  const samples: Sample[] = [];
  let current: string | undefined;
  for (const [index, line] of text.slice(0, -1).split("\n").entries()) {
    const where = `line ${index + 1}: ${line}`;
    const help = new RegExp(`^# HELP (${NAME}) (.+)$`).exec(line);
    if (help?.[1]) {
      if (helped.has(help[1])) throw new Error(`duplicate HELP, ${where}`);
      helped.add(help[1]);
      current = help[1];
      continue;
    }
    const type = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line);
    if (type?.[1] && type[2]) {
      if (types.has(type[1]) || type[1] !== current) throw new Error(`TYPE out of place, ${where}`);
      types.set(type[1], type[2]);
      continue;
    }
    if (line.startsWith("#") || line === "") throw new Error(`unexpected line, ${where}`);
    const sample = SAMPLE.exec(line);
    if (!sample?.[1] || sample[3] === undefined) throw new Error(`not a sample, ${where}`);
    const name = sample[1];
    const family = current && types.get(current);
    const suffixes = family === "histogram" ? ["_bucket", "_sum", "_count"] : [""];
    if (!current || !suffixes.some((suffix) => name === `${current}${suffix}`)) {
      throw new Error(`sample outside its family, ${where}`);
    }
    if (family === "counter" && !name.endsWith("_total")) throw new Error(`counter without _total, ${where}`);
    const value = sample[3] === "+Inf" ? Number.POSITIVE_INFINITY : Number(sample[3]);
    if (!/^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|\+Inf|-Inf|NaN)$/.test(sample[3])) {
      throw new Error(`not a number, ${where}`);
    }
    samples.push({ name, labels: parseLabels(sample[2] ?? "", where), value });
  }
  return { types, samples };
}

function parseLabels(text: string, where: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  while (rest.length > 0) {
    const label = LABEL.exec(rest);
    if (!label?.[1] || label[2] === undefined) throw new Error(`malformed labels, ${where}`);
    if (label[1] in labels) throw new Error(`duplicate label ${label[1]}, ${where}`);
    labels[label[1]] = label[2].replace(/\\(["\\n])/g, (_, c: string) => (c === "n" ? "\n" : c));
    rest = rest.slice(label[0].length);
    if (label[3] === "" && rest.length > 0) throw new Error(`malformed labels, ${where}`);
  }
  return labels;
}

/** The value of the one sample with this name and exactly these labels, or 0 when there is none. */
export function sampleValue(exposition: Exposition, name: string, labels: Record<string, string>): number {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  const found = exposition.samples.filter(
    (sample) => sample.name === name && JSON.stringify(Object.entries(sample.labels).sort()) === wanted,
  );
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} ${wanted}`);
  return found[0]?.value ?? 0;
}
