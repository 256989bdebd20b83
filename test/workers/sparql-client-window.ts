// sparql-http-client's fetch wrapper (nodeify-fetch, browser build under workerd) reads `window.Headers` as it
// loads; the Protocol tests give the client their own fetch, so a stand-in is enough until they remove it.
(globalThis as { window?: unknown }).window ??= { Headers };
