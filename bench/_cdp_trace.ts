/**
 * A Chromium trace of one page through the Chrome DevTools Protocol (`Tracing`, via
 * playwright-core's CDP session), summarised per thread as the trace events with the most time
 * (inclusive: a parent's time holds its children's) and how often each ran: what the dashboard
 * bench's `--trace FILE` writes, to see where a frame's time goes after the script (style, paint,
 * the commit, each canvas's resource), on the page's main thread and in its workers.
 */
import type { Page } from "playwright-core";

/** The categories traced: the timeline, frames, the compositor and Blink. */
export const TRACE_CATEGORIES = [
  "devtools.timeline",
  "disabled-by-default-devtools.timeline.frame",
  "cc",
  "blink",
].join(",");

/** One line of the summary: an event on a thread, its time in all and how often it ran. */
export interface TraceLine {
  thread: string;
  name: string;
  total_ms: number;
  count: number;
}

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  args?: { name?: string };
}

/** Starts tracing `page`; the returned function stops and summarises the `top` lines per thread
 *  of the threads whose names match `threads`. */
export async function startTrace(
  page: Page,
): Promise<(options?: { top?: number; threads?: RegExp }) => Promise<TraceLine[]>> {
  const cdp = await page.context().newCDPSession(page);
  const events: TraceEvent[] = [];
  cdp.on("Tracing.dataCollected", (d) => {
    for (const e of (d as unknown as { value: TraceEvent[] }).value) events.push(e);
  });
  await cdp.send("Tracing.start", {
    categories: TRACE_CATEGORIES,
    transferMode: "ReportEvents",
  });
  return async (options = {}) => {
    const done = new Promise<void>((resolve) =>
      cdp.once("Tracing.tracingComplete", () => resolve())
    );
    await cdp.send("Tracing.end");
    await done;
    await cdp.detach();
    return summariseTrace(events, options.top ?? 25, options.threads ?? /Main|Worker/);
  };
}

/** Time and count per event name per thread (complete events and begin/end pairs). */
export function summariseTrace(events: TraceEvent[], top: number, threads: RegExp): TraceLine[] {
  const names = new Map<string, string>();
  for (const e of events) {
    if (e.ph === "M" && e.name === "thread_name") {
      names.set(`${e.pid}:${e.tid}`, e.args?.name ?? "");
    }
  }
  const sums = new Map<string, { ms: number; count: number }>();
  const open = new Map<string, number[]>();
  const add = (thread: string, name: string, us: number) => {
    const key = `${thread}\t${name}`;
    const s = sums.get(key) ?? { ms: 0, count: 0 };
    s.ms += us / 1000;
    s.count++;
    sums.set(key, s);
  };
  for (const e of events) {
    const thread = names.get(`${e.pid}:${e.tid}`) ?? `${e.pid}:${e.tid}`;
    if (!threads.test(thread)) continue;
    const id = `${e.pid}:${e.tid}:${e.name}`;
    if (e.ph === "X" && e.dur !== undefined) add(thread, e.name, e.dur);
    else if (e.ph === "B") open.set(id, [...(open.get(id) ?? []), e.ts]);
    else if (e.ph === "E") {
      const starts = open.get(id);
      const ts = starts?.pop();
      if (ts !== undefined) add(thread, e.name, e.ts - ts);
    }
  }
  const byThread = new Map<string, TraceLine[]>();
  for (const [key, s] of sums) {
    const [thread, name] = key.split("\t") as [string, string];
    const list = byThread.get(thread) ?? [];
    list.push({ thread, name, total_ms: s.ms, count: s.count });
    byThread.set(thread, list);
  }
  return [...byThread.values()].flatMap((list) =>
    list.sort((a, b) => b.total_ms - a.total_ms).slice(0, top)
  );
}

/** The summary as text lines. */
export function formatTrace(lines: TraceLine[]): string {
  return lines.map((l) =>
    `${l.thread.padEnd(22)} ${l.total_ms.toFixed(1).padStart(9)} ms ${
      String(l.count).padStart(6)
    }×  ${l.name}`
  ).join("\n");
}
