/**
 * Test support: the messages of a recording file, each with its own copy of its bytes.
 */
import { type RecordedMessage, RecordingReader } from "../../sim/recording/mod.ts";

/** Every message of the recording at `path`, in order, its `data` copied out of the reader's chunks. */
export async function readRecords(path: string): Promise<RecordedMessage[]> {
  const reader = await RecordingReader.open(path);
  const out: RecordedMessage[] = [];
  for await (const m of reader.messages()) out.push({ ...m, data: m.data.slice() });
  return out;
}
