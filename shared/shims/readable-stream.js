// Bundler alias target for the npm `readable-stream` (n3, shacl-engine): its polyfill keeps module-level timers
// that hang later requests in workerd, while `node:stream` (nodejs_compat) does not. Plain JS because the
// vitest workers pool loads alias targets of CommonJS `require()` calls untransformed. Never import directly.
import stream from "node:stream";

export const { Readable, Writable, Duplex, Transform, PassThrough, Stream, pipeline, finished } = stream;
export default stream;
