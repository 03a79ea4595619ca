/**
 * Which replay worker each partition goes to, for replay threads: the partitions are weighed by the
 * frame bytes routed to them in the recording's first records, and dealt out heaviest first, each
 * to the least loaded worker.
 */
import { type AnyActorDefinition, partitionOf } from "../../actors/runtime/mod.ts";
import { parseSubject, SUBJECT_ROOT } from "../../protocol/mod.ts";
import { RecordingReader } from "./recording_reader.ts";

/** Partitions: enough that keys rarely share one, so the spread can be even. */
export const PARTITIONS = 4096;
/** Records of the recording read to weigh the partitions, at most. */
const SPREAD_RECORDS_MAX = 100_000;

/** What the partitions are weighed by: the recording, and how its frames route. */
export interface SpreadOptions {
  path: string;
  threads: number;
  defs: readonly AnyActorDefinition[];
  configs: ReadonlyMap<string, unknown>;
}

/** Per partition, the worker (0 to `threads` - 1) it goes to. */
export async function spreadPartitions(o: SpreadOptions): Promise<Int32Array> {
  const n = o.threads;
  const owners = new Int32Array(PARTITIONS);
  for (let p = 0; p < PARTITIONS; p++) owners[p] = p % n;
  const weight = partitionWeights(await feedBytes(o.path), o);
  const used = [...weight.keys()].filter((p) => weight[p]! > 0);
  used.sort((a, b) => weight[b]! - weight[a]! || a - b);
  const load = new Float64Array(n);
  for (const p of used) {
    let best = 0;
    for (let w = 1; w < n; w++) if (load[w]! < load[best]!) best = w;
    owners[p] = best;
    load[best]! += weight[p]!;
  }
  return owners;
}

/** The bytes of frames per feed subject in the recording's first records. */
async function feedBytes(path: string): Promise<Map<string, number>> {
  const bytes = new Map<string, number>();
  const reader = await RecordingReader.open(path);
  let records = 0;
  for await (const batch of reader.batches()) {
    for (const m of batch) {
      if (++records > SPREAD_RECORDS_MAX) return bytes;
      if (!m.subject.startsWith(`${SUBJECT_ROOT}.feed.`)) continue;
      bytes.set(m.subject, (bytes.get(m.subject) ?? 0) + m.data.byteLength);
    }
  }
  return bytes;
}

/** Per partition, the frame bytes routed to it. */
function partitionWeights(bytes: Map<string, number>, o: SpreadOptions): Float64Array {
  const weight = new Float64Array(PARTITIONS);
  for (const [subject, b] of bytes) {
    let channel: string;
    try {
      const parsed = parseSubject(subject);
      if (parsed.kind !== "feed") continue;
      channel = parsed.channel;
    } catch {
      continue;
    }
    for (const def of o.defs) {
      let keys: readonly string[];
      try {
        keys = def.route(channel, o.configs.get(def.kind));
      } catch {
        continue; // reported when the replay routes its first frame
      }
      for (const key of keys) weight[partitionOf(key, PARTITIONS)]! += b;
    }
  }
  return weight;
}
