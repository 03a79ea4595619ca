/**
 * The `alerting.paging` block: what pages. A false-alarm budget the team sets (`pages_per_day`
 * for the whole cluster), from which the page threshold follows (page_budget.ts and
 * docs/methods/paging.md); how channels with labels are grouped into alerts (`group_by`, as
 * Alertmanager groups); which kinds of finding are context rather than pages (`context_kinds`);
 * and what becomes of incidents below the budget. Every field is checked and a bad one is a
 * ConfigError naming `alerting.paging.<field>` and the value.
 */
import {
  ConfigError,
  configObject,
  findingKindOf,
  readBoolean,
  readNumber,
  readString,
  rejectUnknown,
} from "../../protocol/mod.ts";

/** What becomes of an incident below the budget: not sent, or sent as `severity=info`. */
export const BELOW_BUDGET_CHOICES = ["drop", "info"] as const;

/** Paging settings. */
export interface PagingConfig {
  /**
   * Whether the budget decides what pages. Off: every fired incident of a kind that is not
   * context is sent with its kind's own severity (the rule before the budget).
   */
  budget: boolean;
  /** False pages a day the team accepts for the whole cluster. */
  pages_per_day: number;
  /**
   * Samples the cluster watches a day, for the threshold; 0: measured from the anomaly
   * detectors' outputs (the channels they score and how many samples each).
   */
  samples_per_day: number;
  /**
   * Source labels an incident's members are grouped by, in order (none: one alert per incident).
   */
  group_by: string[];
  /**
   * Kinds of finding that page though their kind declares them context (change points and
   * coherence shifts are, by default: FindingKind's `context`).
   */
  page_kinds: string[];
  /**
   * Kinds of finding that are context though they would page: shown, and named on a page of the
   * same group as what changed.
   */
  context_kinds: string[];
  /** What becomes of an incident below the budget. */
  below_budget: (typeof BELOW_BUDGET_CHOICES)[number];
}

/** Labels one `group_by` may name, at most. */
export const GROUP_BY_MAX = 16;

/** The defaults (docs/methods/paging.md gives each its origin). */
export const defaultPagingConfig: Readonly<PagingConfig> = {
  budget: true,
  pages_per_day: 1,
  samples_per_day: 0,
  group_by: ["instance", "job"],
  page_kinds: [],
  context_kinds: [],
  below_budget: "drop",
};

const FIELDS = [
  "budget",
  "pages_per_day",
  "samples_per_day",
  "group_by",
  "page_kinds",
  "context_kinds",
  "below_budget",
];

/** Validates `raw` (absent: the defaults); throws a ConfigError naming `path.<field>`. */
export function parsePagingConfig(raw: unknown, path = "alerting.paging"): PagingConfig {
  const o = configObject(raw ?? {}, path);
  rejectUnknown(o, FIELDS, path);
  const d = defaultPagingConfig;
  const below = readString(o, "below_budget", path, d.below_budget, BELOW_BUDGET_CHOICES);
  const pages = readNumber(o, "pages_per_day", path, d.pages_per_day, {
    min: 0,
    exclusiveMin: true,
    max: 1e6,
  });
  return {
    budget: readBoolean(o, "budget", path, d.budget),
    pages_per_day: pages,
    samples_per_day: readNumber(o, "samples_per_day", path, d.samples_per_day, {
      min: 0,
      max: 1e15,
    }),
    group_by: names(o.group_by, `${path}.group_by`, d.group_by, /^[a-zA-Z_][a-zA-Z0-9_]*$/),
    page_kinds: names(o.page_kinds, `${path}.page_kinds`, d.page_kinds, /^[A-Za-z0-9_-]{1,64}$/),
    context_kinds: names(
      o.context_kinds,
      `${path}.context_kinds`,
      d.context_kinds,
      /^[A-Za-z0-9_-]{1,64}$/,
    ),
    below_budget: below as PagingConfig["below_budget"],
  };
}

function names(raw: unknown, field: string, fallback: readonly string[], rule: RegExp): string[] {
  if (raw === undefined) return [...fallback];
  const ok = Array.isArray(raw) && raw.length <= GROUP_BY_MAX &&
    raw.every((x) => typeof x === "string" && rule.test(x));
  if (!ok) {
    throw new ConfigError(
      field,
      `Field "${field}" must be a list of at most ${GROUP_BY_MAX} names matching ${rule.source}, ` +
        `got ${JSON.stringify(raw)}`,
      { value: raw },
    );
  }
  return [...new Set(raw as string[])];
}

/**
 * Whether incidents of `kind` are context under `paging`: listed in `context_kinds`, or declared
 * context by their kind and not listed in `page_kinds`.
 */
export function isContextKind(kind: string, paging: PagingConfig): boolean {
  if (paging.context_kinds.includes(kind)) return true;
  return findingKindOf(kind)?.context === true && !paging.page_kinds.includes(kind);
}
