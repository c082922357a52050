/** The error a promise rejects with, its fields readable; fails the test when it resolves instead. */
export async function failure(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  const err = await promise.then(
    () => new Error('did not fail'),
    (e: unknown) => e,
  );
  if (!(err instanceof Error)) throw new Error('rejected with a non-error');
  return err as Error & Record<string, unknown>;
}
