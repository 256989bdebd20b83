/** The error an RPC call rejects with (fails the test if it resolves). */
export async function rejection(call: () => PromiseLike<unknown>): Promise<unknown> {
  try {
    await call();
  } catch (err) {
    return err;
  }
  throw new Error("expected the call to reject");
}
