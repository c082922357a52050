/** Waiting on the wall clock where a test depends on which minute a request falls in. */

/** Waits for the next minute when less than 15 s of this one are left, so a short burst stays within one. */
export async function freshMinute(): Promise<void> {
  const intoMinute = Date.now() % 60_000;
  if (intoMinute > 45_000) await new Promise((r) => setTimeout(r, 60_000 - intoMinute + 50));
}
