/** Bounded concurrency: a task on each of a list's items, a few at once. */

/** Runs `task` on each of `items`, at most `max` at once; resolves when all have ended. */
export async function eachWithin<T>(
  items: readonly T[],
  max: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(max, items.length) }, worker));
}
