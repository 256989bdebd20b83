/** A SPARQL expression evaluation error (type error, unbound variable, invalid argument). */
export class ExpressionError extends Error {
  override readonly name = "ExpressionError";
}
