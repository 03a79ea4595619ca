/** Polling for an answer that arrives in the synced document, for this room's clients. */

/** Calls `check` every 20 ms until it gives a value or `timeoutMs` passed; then its last value. */
export async function pollUntil<T>(
  check: () => T | undefined,
  timeoutMs: number,
): Promise<T | undefined> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
}
