/**
 * Test support: a scan API client over real HTTP, Server-Sent Events and WebSockets, reading a
 * scan's results to their end, each message checked by its decoder in protocol/scan_result.ts.
 */
import { WebSocket } from "ws";
import {
  decodeScanResult,
  decodeScanResultsMessage,
  decodeScanStats,
  type ScanResult,
} from "../../../protocol/mod.ts";

// deno-lint-ignore no-explicit-any
export type Json = any;

/** POSTs `body` as JSON; the status and the parsed answer. */
export async function postJson(
  url: string,
  body: unknown,
): Promise<{ status: number; body: Json }> {
  const res = await fetch(url, { method: "POST", body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

/** Reads an SSE stream of results until its `end` event. */
export async function readSse(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ results: { id: string; data: ScanResult }[]; end: Json }> {
  const res = await fetch(url, { headers });
  if (res.status !== 200) throw new Error(`SSE ${url}: status ${res.status}`);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const results: { id: string; data: ScanResult }[] = [];
  let end: Json, text = "";
  while (end === undefined) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = text.indexOf("\n\n")) >= 0) {
      const block = text.slice(0, cut);
      text = text.slice(cut + 2);
      const field = (name: string) =>
        block.split("\n").find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2);
      if (field("event") === "result") {
        results.push({ id: field("id")!, data: decodeScanResult(field("data")!) });
      }
      if (field("event") === "end") end = decodeScanStats(field("data")!);
    }
  }
  await reader.cancel().catch(() => {});
  return { results, end };
}

/** Reads a WebSocket of results until its `end` message. */
export function readWs(url: string): Promise<{ results: ScanResult[]; end: Json }> {
  return new Promise((resolve, reject) => {
    const results: ScanResult[] = [];
    const ws = new WebSocket(url);
    ws.on("error", reject);
    ws.on("message", (data) => {
      const m = decodeScanResultsMessage(String(data));
      if (m.type === "result") {
        results.push({ seq: m.seq, symbol: m.symbol, rank: m.rank, chunk: m.chunk });
      } else resolve({ results, end: m.stats });
    });
  });
}
