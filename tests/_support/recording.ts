/**
 * Test support: the messages of a recording file, each with its own copy of its bytes, and the
 * timeline of a channel's inputs and outputs.
 */
import { type RecordedMessage, RecordingReader, startInstances } from "../../sim/recording/mod.ts";
import { decodeValue } from "../../protocol/mod.ts";
import { InputIdWindow } from "../../actors/runtime/instances/mod.ts";

/** Every message of the recording at `path`, in order, its `data` copied out of the reader's chunks. */
export async function readRecords(path: string): Promise<RecordedMessage[]> {
  const reader = await RecordingReader.open(path);
  const out: RecordedMessage[] = [];
  for await (const m of reader.messages()) out.push({ ...m, data: m.data.slice() });
  return out;
}

/**
 * What a failed verification of a recording begun mid-session needs told: for the channel `key`,
 * its inputs and its actors' outputs in file order, each input's and each output's cause marked
 * `held` where the start state of an instance of `key` holds that id. `max` lines from a few before
 * the first record of an input that an id of `near` begins with (an output's id begins with its
 * cause's), else from the first.
 */
export async function channelTimeline(
  path: string,
  key: string,
  near: readonly string[] = [],
  max = 40,
): Promise<string> {
  const reader = await RecordingReader.open(path);
  const held = new Map<string, InputIdWindow>();
  if (reader.start) {
    for (const [stream, inst] of startInstances(reader.start)) {
      if (stream.endsWith(`/${key}`)) held.set(stream, InputIdWindow.restoring(inst.ids));
    }
  }
  const holders = (id: string) => {
    const by = [...held].filter(([, ids]) => ids.has(id)).map(([s]) => s.split("/")[0]);
    return by.length > 0 ? ` held by ${by.join(",")}` : "";
  };
  const lines: string[] = [];
  let from: number | undefined;
  for await (const m of reader.messages()) {
    if (from !== undefined && lines.length >= from + max) break;
    const parts = m.subject.split(".");
    // Only inputs and outputs: a JetStream journal's records (troupe.journal.*) are not msgpack.
    if (parts[parts.length - 1] !== key || (parts[1] !== "feed" && parts[1] !== "out")) continue;
    const env = decodeValue(m.data) as { id?: unknown; cause?: unknown };
    const tail = (v: unknown) => typeof v === "string" ? v.split(":").slice(-4).join(":") : "-";
    const id = String(parts[1] === "feed" ? env.id : env.cause);
    if (from === undefined && near.some((n) => n.startsWith(id))) {
      from = Math.max(0, lines.length - 4);
    }
    if (parts[1] === "feed") lines.push(`${m.tUs} in ${tail(env.id)}${holders(id)}`);
    else if (parts[1] === "out") {
      lines.push(`${m.tUs} out ${parts[2]} cause ${tail(id)}${holders(id)}`);
    }
  }
  const start = from ?? 0;
  const shown = lines.slice(start, start + max);
  return [
    `${key}: start state of ${[...held.keys()].join(", ")}; records ${start + 1} to ` +
    `${start + shown.length} of the channel's:`,
    ...shown,
  ].join("\n");
}
