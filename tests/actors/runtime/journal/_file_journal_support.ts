/**
 * Helpers of the file journal's suites: payloads that name themselves, and reading records back.
 */
import { readdirSync } from "node:fs";
import type { JournalRecord } from "../../../../actors/runtime/journal/journal.ts";

/** The payload of the n-th append of a test: n as text, so that a record names itself. */
export function payload(n: number, extra = 0): Uint8Array {
  return new TextEncoder().encode(`record-${n}` + "x".repeat(extra));
}

export function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

export async function collect(records: AsyncIterable<JournalRecord>): Promise<JournalRecord[]> {
  const out: JournalRecord[] = [];
  for await (const r of records) out.push({ ...r, data: r.data.slice() });
  return out;
}

export function segmentFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith(".seg")).sort();
}
