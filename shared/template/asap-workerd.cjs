// workerd stand-in for the `asap` package (nunjucks' callbackAsap): its browser build mixes in the Node raw queue
// under the workers bundler. nunjucks only needs "call this task soon, in order".
module.exports = function asap(task) {
  queueMicrotask(task);
};
