/**
 * A series' labels as a channel's source labels (protocol/prometheus/channel_labels.ts): names
 * made label names (an OTLP attribute's `.` becomes `_`, as Prometheus's own OTLP translation
 * does), empty values left out (Prometheus reads an empty label as no label), and cut to the
 * bucket's bounds, so any series the receiver took can be written.
 */
import {
  CHANNEL_LABEL_CHARS_MAX,
  CHANNEL_LABELS_MAX,
  type Label,
} from "../../protocol/prometheus/mod.ts";

/** The labels of `labels` a channel keeps as its source labels. */
export function sourceLabels(labels: readonly Label[]): Label[] {
  const out: Label[] = [];
  const seen = new Set<string>();
  for (const l of labels) {
    if (l.value === "" || out.length >= CHANNEL_LABELS_MAX) continue;
    let name = l.name.replace(/[^a-zA-Z0-9_]/g, "_").slice(0, CHANNEL_LABEL_CHARS_MAX);
    if (name === "" || /^[0-9]/.test(name)) name = `_${name}`.slice(0, CHANNEL_LABEL_CHARS_MAX);
    if (seen.has(name)) continue;
    seen.add(name);
    out.push({ name, value: l.value.slice(0, CHANNEL_LABEL_CHARS_MAX) });
  }
  return out;
}
