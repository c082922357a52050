/**
 * Stream order across failures. The batch processor runs every record of a batch even after one fails, and
 * the event source mapping then retries from the failed record with the lowest sequence number; a record
 * after the failure that was applied meanwhile would be appended to the chain out of order (and again on the
 * retry, as a replay). So a batch stops at its first failure: the records after it are reported failed
 * without being applied, and the retry resumes the chain exactly where it stopped.
 */

/** Thrown for a record not applied because an earlier record of its batch failed. */
export class SkippedAfterFailure extends Error {
  constructor(options: { cause: unknown }) {
    super('not applied: an earlier record of the batch failed', options);
    this.name = 'SkippedAfterFailure';
  }
}

/** Wraps a record handler for one batch: after the first failure every later record fails unapplied. */
export function stopAtFirstFailure<R>(handle: (record: R) => Promise<void>): (record: R) => Promise<void> {
  let failure: { cause: unknown } | undefined;
  return async (record) => {
    if (failure !== undefined) throw new SkippedAfterFailure(failure);
    try {
      await handle(record);
    } catch (err) {
      failure = { cause: err };
      throw err;
    }
  };
}
