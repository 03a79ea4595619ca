/**
 * Merges Prometheus expositions (text format 0.0.4) of several hosts into one: each family's
 * HELP and TYPE once, then every host's samples of it together (the format asks a family's lines
 * to be contiguous). A series met twice (the process's own, which every thread of a process
 * reports) is kept as first met.
 */

/** One exposition holding every family of `texts`, in the order first met. */
export function mergeMetricsText(texts: readonly string[]): string {
  const families = new Map<string, { head: string[]; samples: string[]; seen: Set<string> }>();
  for (const text of texts) {
    let current: { head: string[]; samples: string[]; seen: Set<string> } | undefined;
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      const meta = /^# (HELP|TYPE) (\S+)/.exec(line);
      if (meta) {
        const name = meta[2]!;
        let f = families.get(name);
        if (!f) families.set(name, f = { head: [], samples: [], seen: new Set() });
        if (!f.head.some((h) => h.startsWith(`# ${meta[1]} `))) f.head.push(line);
        current = f;
        continue;
      }
      if (line.startsWith("#")) continue;
      if (!current) {
        const name = /^[^\s{]+/.exec(line)![0];
        current = families.get(name);
        if (!current) families.set(name, current = { head: [], samples: [], seen: new Set() });
      }
      const close = line.indexOf("}");
      const series = close >= 0 ? line.slice(0, close + 1) : line.slice(0, line.indexOf(" "));
      if (current.seen.has(series)) continue;
      current.seen.add(series);
      current.samples.push(line);
    }
  }
  const out: string[] = [];
  for (const f of families.values()) out.push(...f.head, ...f.samples);
  return out.join("\n") + "\n";
}
