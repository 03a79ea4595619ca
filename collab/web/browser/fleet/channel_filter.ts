/**
 * The dashboard's filter of channels, as typed in its box: Prometheus label matchers
 * (`job="node"`, `instance=~"db-.*"`, `mode!="idle"`, with or without braces, as a team already
 * writes them in its selectors) and plain words, each a case-insensitive substring of the
 * channel's name or of one of its label values (`MemAvailable`, `9100`). A channel is shown when
 * every matcher holds (protocol/prometheus/label_matchers.ts: anchored regular expressions; a
 * label a channel lacks matches as the empty string) and every word is found. A channel with no
 * labels recorded is matched by its name alone, its metric name (the part after its last `-`)
 * standing for `__name__`. Pure: text in, a predicate out.
 */
import { type LabelSelector, parseLabelSelector } from "../../../../protocol/prometheus/mod.ts";
import type { Label } from "../../../../protocol/prometheus/mod.ts";

/** A parsed filter: what it was typed as, and whether a channel passes it. */
export interface ChannelFilter {
  text: string;
  matches(channel: string, labels: readonly Label[] | undefined): boolean;
}

/** One matcher as typed: a label name, an operator and a quoted value. */
const MATCHER = /([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')/g;

/** The filter that passes every channel. */
export const NO_FILTER: ChannelFilter = { text: "", matches: () => true };

/**
 * Parses `text`; throws the selector's ProtocolError (naming the character and what was expected)
 * when a matcher does not parse or its regular expression does not compile.
 */
export function parseChannelFilter(text: string): ChannelFilter {
  const matchers = [...text.matchAll(MATCHER)].map((m) => m[0]);
  const rest = text.replace(MATCHER, " ").replace(/[{},]/g, " ");
  const words = rest.split(/\s+/).filter((w) => w !== "").map((w) => w.toLowerCase());
  if (matchers.length === 0 && words.length === 0) return NO_FILTER;
  const selector: LabelSelector | undefined = matchers.length > 0
    ? parseLabelSelector(`{${matchers.join(", ")}}`)
    : undefined;
  return {
    text,
    matches(channel, labels) {
      const own = labels && labels.length > 0 ? labels : nameLabels(channel);
      if (selector && !selector.matches(own)) return false;
      for (const w of words) {
        if (channel.toLowerCase().includes(w)) continue;
        if (!own.some((l) => l.value.toLowerCase().includes(w))) return false;
      }
      return true;
    },
  };
}

/** The labels a channel without a record stands for: its metric name as `__name__`. */
function nameLabels(channel: string): Label[] {
  return [{ name: "__name__", value: channel.slice(channel.lastIndexOf("-") + 1) }];
}
