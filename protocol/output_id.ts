/**
 * An output's id: deterministic, made from the id of the input it came from, so that a consumer
 * can drop the duplicates a crash recovery publishes again. An instance `(kind, key)` applying
 * input `<input id>` names its `n`-th event `<input id>:<kind>:<key>:<n>` and its per-sample
 * columns `<input id>:<kind>:<key>:c`.
 *
 * A feed batch's frame already names its channel: its id is `<batch id>/<channel>`
 * (feed_batch.ts), and the instance of that channel would write its key twice. Where the input id
 * ends in `/<key>` the key is left out: `<input id>:<kind>:<n>`. The two forms never meet: a key
 * holds no `/` nor `:` (subjects.ts), so an id of the first form cannot end as one of the second,
 * and one input id ends in `/<key>` for one key at most. Each output of a fleet's channel is then
 * its channel's name shorter, in its id and so in every byte of it sent and stored.
 */

/** The id of output `n` (an event's index, `c` the columns) of `(kind, key)` on `inputId`. */
export function outputId(inputId: string, kind: string, key: string, n: number | "c"): string {
  return namesKey(inputId, key) ? `${inputId}:${kind}:${n}` : `${inputId}:${kind}:${key}:${n}`;
}

/** Whether `inputId` ends in `/<key>`, without a string made to compare. */
function namesKey(inputId: string, key: string): boolean {
  const at = inputId.length - key.length - 1;
  return at >= 0 && inputId.charCodeAt(at) === 0x2f && inputId.endsWith(key);
}
