/**
 * The shared document of a session, with typed accessors so that no other code juggles raw Y.Maps:
 * `dashboard` (panels), `units` (set per channel: session_units.ts), `thresholds` (actor settings
 * per kind and channel, with the actors' answer written back beside them), `annotations`,
 * `workflow` (checklist steps) and `scans` (saved scan definitions), plus `meta.schema_version`
 * for later migrations. Every write is validated first: a bad value throws a SessionDocError naming
 * the field and the value, and nothing is written. The checks of each entry (checkPanel,
 * checkStep, ...) are exported: session_schema.ts lists them per top-level key, and the collab
 * server runs the same ones on every editor's write.
 */
import * as Y from "yjs";
import { isValidName } from "../../protocol/mod.ts";

/** The document schema this code writes. */
export const SCHEMA_VERSION = 1;

/** Bounds on what a session document holds. */
export const DOC_LIMITS = {
  title_chars_max: 200,
  text_chars_max: 4000,
  channels_per_panel_max: 64,
  settings_fields_max: 32,
  annotations_max: 10_000,
} as const;

/** A value written to the session document was not valid. */
export class SessionDocError extends TypeError {
  override name = "SessionDocError";
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

/** A dashboard panel. `layout` is in grid units. */
export interface Panel {
  id: string;
  kind: "chart" | "gauge" | "events" | "table";
  channels: string[];
  title: string;
  layout: { x: number; y: number; w: number; h: number };
  /** Taken off the dashboard (its channels' cards are not shown) without forgetting its place. */
  hidden?: boolean;
}

/** A scalar actor setting. */
export type SettingValue = number | string | boolean;

/** The actors' answer to a threshold change: pending until the host replies. */
export type ThresholdStatus = "pending" | "ok" | "error";

/** A threshold entry: settings for an actor kind (all its instances) or one channel of it. */
export interface Threshold {
  kind: string;
  channel: string | undefined;
  settings: Record<string, SettingValue>;
  /** Who changed the settings last (as the session knows them). */
  by: string;
  status: ThresholdStatus | undefined;
  /** The refusal's reason when status is "error". */
  reason: string | undefined;
  /** What the host applied when status is "ok" (`applied to stats/BTC`, ...). */
  applied: string | undefined;
  /** The host that answered. */
  host: string | undefined;
}

/** A note on a chart. `t` is milliseconds since the epoch. */
export interface Annotation {
  id: string;
  t: number;
  channel: string;
  text: string;
  author: string;
}

/** A checklist step. */
export interface WorkflowStep {
  id: string;
  title: string;
  status: "todo" | "doing" | "done" | "skipped";
  assignee: string;
  /** Due time, milliseconds since the epoch, or 0 for none. */
  due: number;
}

/** A saved scan definition. */
export interface ScanDefinition {
  name: string;
  channels: string[];
  params: Record<string, SettingValue>;
}

const PANEL_KINDS = ["chart", "gauge", "events", "table"];
const STEP_STATUSES = ["todo", "doing", "done", "skipped"];

/** The error for `field` holding `value` where `expected` was due (the schema's message form). */
export function fieldError(field: string, expected: string, value: unknown): SessionDocError {
  const shown = typeof value === "string"
    ? JSON.stringify(value.length > 80 ? value.slice(0, 80) + "…" : value)
    : Array.isArray(value)
    ? `an array of ${value.length}`
    : value !== null && typeof value === "object"
    ? "an object"
    : String(value);
  return new SessionDocError(
    field,
    `Session document field "${field}" must be ${expected}, got ${shown}`,
  );
}

/** Throws a SessionDocError: `field` must be `expected`, got `value` (shown short). */
export function fail(field: string, expected: string, value: unknown): never {
  throw fieldError(field, expected, value);
}

function text(field: string, value: unknown, max: number, allowEmpty = false): string {
  if (typeof value !== "string" || value.length > max || (!allowEmpty && value.length === 0)) {
    fail(field, `a string of ${allowEmpty ? 0 : 1} to ${max} characters`, value);
  }
  return value;
}

function name(field: string, value: unknown): string {
  if (!isValidName(value)) fail(field, "1 to 64 of A-Z a-z 0-9 _ -", value);
  return value;
}

function finite(field: string, value: unknown, min = -Infinity): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min) {
    fail(field, min === -Infinity ? "a finite number" : `a finite number >= ${min}`, value);
  }
  return value;
}

function channels(field: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.length > DOC_LIMITS.channels_per_panel_max) {
    fail(field, `an array of at most ${DOC_LIMITS.channels_per_panel_max} channel names`, value);
  }
  return value.map((c, i) => name(`${field}[${i}]`, c));
}

function settings(field: string, value: unknown): Record<string, SettingValue> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    fail(field, "an object of settings", value);
  }
  const entries = Object.entries(value);
  if (entries.length === 0 || entries.length > DOC_LIMITS.settings_fields_max) {
    fail(field, `an object of 1 to ${DOC_LIMITS.settings_fields_max} settings`, value);
  }
  const out: Record<string, SettingValue> = {};
  for (const [k, v] of entries) {
    name(`${field} key`, k);
    if (typeof v === "number") finite(`${field}.${k}`, v);
    else if (typeof v === "string") text(`${field}.${k}`, v, DOC_LIMITS.title_chars_max, true);
    else if (typeof v !== "boolean") fail(`${field}.${k}`, "a number, a string or a boolean", v);
    out[k] = v;
  }
  return out;
}

/** Checks a panel; returns a clean copy. */
export function checkPanel(p: Panel): Panel {
  const id = name("dashboard.id", p?.id);
  const f = `dashboard.${id}`;
  if (!PANEL_KINDS.includes(p.kind)) fail(`${f}.kind`, `one of ${PANEL_KINDS.join(", ")}`, p.kind);
  const l = p.layout;
  if (l === null || typeof l !== "object") fail(`${f}.layout`, "{ x, y, w, h }", l);
  if (p.hidden !== undefined && typeof p.hidden !== "boolean") {
    fail(`${f}.hidden`, "true or false", p.hidden);
  }
  return {
    ...(p.hidden ? { hidden: true } : {}),
    id,
    kind: p.kind,
    channels: channels(`${f}.channels`, p.channels),
    title: text(`${f}.title`, p.title, DOC_LIMITS.title_chars_max, true),
    layout: {
      x: finite(`${f}.layout.x`, l.x, 0),
      y: finite(`${f}.layout.y`, l.y, 0),
      w: finite(`${f}.layout.w`, l.w, 1),
      h: finite(`${f}.layout.h`, l.h, 1),
    },
  };
}

/** The key of a threshold entry: `<kind>` or `<kind>/<channel>`. */
export function thresholdKey(kind: string, channel?: string): string {
  name("thresholds.kind", kind);
  return channel === undefined ? kind : `${kind}/${name("thresholds.channel", channel)}`;
}

/** Splits a threshold key; undefined when it is not one. */
export function parseThresholdKey(
  key: string,
): { kind: string; channel: string | undefined } | undefined {
  const [kind, channel, more] = key.split("/");
  if (more !== undefined || !isValidName(kind)) return undefined;
  if (channel !== undefined && !isValidName(channel)) return undefined;
  return { kind, channel };
}

/** Checks threshold settings as they are read back from a document (written by any client). */
export function checkSettings(field: string, value: unknown): Record<string, SettingValue> {
  return settings(field, value);
}

/** Checks a checklist step; returns a clean copy. */
export function checkStep(step: WorkflowStep): WorkflowStep {
  const id = name("workflow.id", step?.id);
  const f = `workflow.${id}`;
  if (!STEP_STATUSES.includes(step.status)) {
    fail(`${f}.status`, `one of ${STEP_STATUSES.join(", ")}`, step.status);
  }
  return {
    id,
    title: text(`${f}.title`, step.title, DOC_LIMITS.title_chars_max),
    status: step.status,
    assignee: text(`${f}.assignee`, step.assignee, DOC_LIMITS.title_chars_max, true),
    due: finite(`${f}.due`, step.due, 0),
  };
}

/** Checks an annotation; returns a clean copy. */
export function checkAnnotation(a: Annotation): Annotation {
  const id = name("annotations.id", a?.id);
  const f = `annotations.${id}`;
  return {
    id,
    t: finite(`${f}.t`, a.t, 0),
    channel: name(`${f}.channel`, a.channel),
    text: text(`${f}.text`, a.text, DOC_LIMITS.text_chars_max),
    author: text(`${f}.author`, a.author, DOC_LIMITS.title_chars_max),
  };
}

/** Checks a saved scan definition; returns a clean copy. */
export function checkScan(scan: ScanDefinition): ScanDefinition {
  const n = name("scans.name", scan?.name);
  return {
    name: n,
    channels: channels(`scans.${n}.channels`, scan.channels),
    params: settings(`scans.${n}.params`, scan.params),
  };
}

/** Checks `meta.<key>`: the schema version is all it holds. */
export function checkMetaField(key: string, value: unknown): void {
  if (key !== "schema_version") fail(`meta.${key}`, "absent (meta holds schema_version)", value);
  if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > SCHEMA_VERSION) {
    fail("meta.schema_version", `an integer from 0 to ${SCHEMA_VERSION}`, value);
  }
}

/**
 * The fields of a threshold entry (a Y.Map: an editor writes settings, by and status; the bridge
 * the host's answer), each with its check; `field` is the field's full name. A field missing here
 * is not taken from an editor.
 */
export const THRESHOLD_FIELDS: Readonly<Record<string, (field: string, value: unknown) => void>> = {
  settings: (f, v) => settings(f, v),
  by: (f, v) => text(f, v, DOC_LIMITS.title_chars_max),
  status: (f, v) => {
    if (v !== "pending" && v !== "ok" && v !== "error") fail(f, "pending, ok or error", v);
  },
  reason: (f, v) => text(f, v, DOC_LIMITS.text_chars_max, true),
  applied: (f, v) => text(f, v, DOC_LIMITS.text_chars_max, true),
  host: (f, v) => text(f, v, DOC_LIMITS.title_chars_max, true),
  ctl_id: (f, v) => text(f, v, DOC_LIMITS.text_chars_max),
  answered_ms: (f, v) => finite(f, v, 0),
};

/** The fields every threshold entry holds. */
export const THRESHOLD_REQUIRED = ["settings", "by"] as const;

/**
 * The entries of `values` that pass `check`, as stored: a document written before the server
 * checked writes (or by an older server) may hold `workflow.garbage = 42`, which a page must not
 * show as a step "undefined".
 */
function fitting<T>(values: readonly T[], check: (value: T) => unknown): T[] {
  return values.filter((v) => {
    if (v === null || typeof v !== "object" || v instanceof Y.AbstractType) return false;
    try {
      check(v);
      return true;
    } catch {
      return false;
    }
  });
}

/** A session's Yjs document with typed, validated accessors. */
export class SessionDoc {
  readonly doc: Y.Doc;

  constructor(doc: Y.Doc = new Y.Doc()) {
    this.doc = doc;
  }

  /** The top-level shared types, by name. */
  get meta(): Y.Map<unknown> {
    return this.doc.getMap("meta");
  }
  get dashboard(): Y.Map<Panel> {
    return this.doc.getMap("dashboard");
  }
  get thresholds(): Y.Map<Y.Map<unknown>> {
    return this.doc.getMap("thresholds");
  }
  get annotations(): Y.Array<Annotation> {
    return this.doc.getArray("annotations");
  }
  get workflow(): Y.Map<WorkflowStep> {
    return this.doc.getMap("workflow");
  }
  get scans(): Y.Map<ScanDefinition> {
    return this.doc.getMap("scans");
  }
  /** The units the team set, by channel or pattern (session_units.ts). */
  get units(): Y.Map<unknown> {
    return this.doc.getMap("units");
  }

  /** The schema version the document was written with (0 when never stamped). */
  schemaVersion(): number {
    const v = this.meta.get("schema_version");
    return typeof v === "number" ? v : 0;
  }

  /** Stamps the schema version; throws when the document is of a newer schema than this code. */
  init(origin?: unknown): void {
    const v = this.schemaVersion();
    if (v > SCHEMA_VERSION) {
      throw new SessionDocError(
        "meta.schema_version",
        `Session document has schema ${v}, newer than this code's ${SCHEMA_VERSION}`,
      );
    }
    if (v < SCHEMA_VERSION) {
      this.doc.transact(() => this.meta.set("schema_version", SCHEMA_VERSION), origin);
    }
  }

  /** Adds or replaces a panel. */
  setPanel(panel: Panel): void {
    const clean = checkPanel(panel);
    this.dashboard.set(clean.id, clean);
  }

  /** Replaces every panel with `panels`, in one transaction (each checked first: none is written
   *  if one is bad). */
  replacePanels(panels: readonly Panel[]): void {
    const clean = panels.map(checkPanel);
    this.doc.transact(() => {
      for (const id of [...this.dashboard.keys()]) this.dashboard.delete(id);
      for (const p of clean) this.dashboard.set(p.id, p);
    });
  }

  /** Every panel, by id order (one that fails checkPanel, stored before the server checked
   *  writes, is left out). */
  panels(): Panel[] {
    return fitting([...this.dashboard.values()], checkPanel).sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /**
   * Sets the settings of an actor kind, or of one channel of it, marking them pending until the
   * bridge writes the actors' answer back.
   */
  setThreshold(
    kind: string,
    channel: string | undefined,
    values: Record<string, SettingValue>,
    by: string,
  ): void {
    const key = thresholdKey(kind, channel);
    const clean = settings(`thresholds.${key}.settings`, values);
    const author = text(`thresholds.${key}.by`, by, DOC_LIMITS.title_chars_max);
    this.doc.transact(() => {
      let entry = this.thresholds.get(key);
      if (!(entry instanceof Y.Map)) {
        entry = new Y.Map();
        this.thresholds.set(key, entry);
      }
      entry.set("settings", clean);
      entry.set("by", author);
      entry.set("status", "pending");
      entry.delete("reason");
      entry.delete("applied");
      entry.delete("host");
    });
  }

  /** A threshold entry, or undefined. */
  threshold(kind: string, channel?: string): Threshold | undefined {
    const key = thresholdKey(kind, channel);
    const entry = this.thresholds.get(key);
    if (!(entry instanceof Y.Map)) return undefined;
    const status = entry.get("status");
    const reason = entry.get("reason");
    const applied = entry.get("applied");
    const host = entry.get("host");
    return {
      kind,
      channel,
      settings: (entry.get("settings") ?? {}) as Record<string, SettingValue>,
      by: String(entry.get("by") ?? ""),
      status: status === "pending" || status === "ok" || status === "error" ? status : undefined,
      reason: typeof reason === "string" ? reason : undefined,
      applied: typeof applied === "string" ? applied : undefined,
      host: typeof host === "string" ? host : undefined,
    };
  }

  /** Adds an annotation at the end. */
  addAnnotation(a: Annotation): void {
    const clean = checkAnnotation(a);
    if (this.annotations.length >= DOC_LIMITS.annotations_max) {
      fail("annotations", `at most ${DOC_LIMITS.annotations_max} entries`, this.annotations.length);
    }
    this.annotations.push([clean]);
  }

  /** Every annotation, in document order (one that fails checkAnnotation is left out). */
  annotationList(): Annotation[] {
    return fitting(this.annotations.toArray(), checkAnnotation);
  }

  /** Adds or replaces a checklist step. */
  setStep(step: WorkflowStep): void {
    const clean = checkStep(step);
    this.workflow.set(clean.id, clean);
  }

  /** Every checklist step, by id order (one that fails checkStep is left out). */
  steps(): WorkflowStep[] {
    return fitting([...this.workflow.values()], checkStep).sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /** Saves a scan definition under its name. */
  setScan(scan: ScanDefinition): void {
    const clean = checkScan(scan);
    this.scans.set(clean.name, clean);
  }

  /** A saved scan definition, or undefined. */
  scan(scanName: string): ScanDefinition | undefined {
    return this.scans.get(scanName);
  }
}
