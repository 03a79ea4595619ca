/**
 * A CPU profile of one page through the Chrome DevTools Protocol (V8's sampling profiler, via
 * playwright-core's CDP session), summarised as the functions with the most self time: what the
 * dashboard bench's `--profile FILE` writes, to see where a page's frame goes.
 */
import type { Page } from "playwright-core";

/** One line of the summary: a function, where it is, and its self time. */
export interface ProfileLine {
  fn: string;
  where: string;
  self_ms: number;
  share: number;
}

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
}

/** Starts sampling `page` every `interval_us`; the returned function stops and summarises. */
export async function startProfile(
  page: Page,
  interval_us = 200,
): Promise<(top?: number) => Promise<ProfileLine[]>> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: interval_us });
  await cdp.send("Profiler.start");
  return async (top = 30) => {
    const { profile } = await cdp.send("Profiler.stop") as unknown as { profile: CpuProfile };
    await cdp.detach();
    return summarise(profile, top);
  };
}

/** Self time per function (samples times their time deltas), largest first. */
export function summarise(profile: CpuProfile, top: number): ProfileLine[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<string, number>();
  const samples = profile.samples ?? [], deltas = profile.timeDeltas ?? [];
  let total = 0;
  for (let i = 0; i < samples.length; i++) {
    const node = byId.get(samples[i]!);
    if (!node) continue;
    const f = node.callFrame;
    const file = f.url.split("/").pop() || "(native)";
    const key = `${f.functionName || "(anonymous)"}\t${file}:${f.lineNumber + 1}`;
    const dt = deltas[i + 1] ?? 0;
    selfUs.set(key, (selfUs.get(key) ?? 0) + dt);
    total += dt;
  }
  return [...selfUs].sort((a, b) => b[1] - a[1]).slice(0, top).map(([key, us]) => {
    const [fn, where] = key.split("\t") as [string, string];
    return { fn, where, self_ms: us / 1000, share: total > 0 ? us / total : 0 };
  });
}

/** The summary as text lines. */
export function formatProfile(lines: ProfileLine[]): string {
  return lines.map((l) =>
    `${l.self_ms.toFixed(1).padStart(9)} ms ${
      (100 * l.share).toFixed(1).padStart(5)
    }%  ${l.fn}  ${l.where}`
  ).join("\n");
}
