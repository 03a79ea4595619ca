/**
 * The session document's schema: a table from each top-level key to what it holds and the check of
 * its entries, the same checks the typed accessors of session_doc.ts run before they write. The
 * collab server runs `checkChanged` on what each editor's update changed (see _schema_gate.ts), so
 * a stock y-websocket client cannot store `workflow.garbage = 42` that every page would then
 * show. A key not in the table is refused. A new key is one line (`silences: mapOf(...)`), its
 * check throwing SessionDocError. The `applied` map (what the hosts apply, applied_settings.ts) is
 * written by the server alone, and the server's own writes are not checked, so it has no line:
 * an editor's write to it is refused like any other unknown key.
 */
import * as Y from "yjs";
import {
  type Annotation,
  checkAnnotation,
  checkMetaField,
  checkPanel,
  checkScan,
  checkStep,
  DOC_LIMITS,
  fieldError,
  type Panel,
  type ScanDefinition,
  SessionDocError,
  THRESHOLD_FIELDS,
  THRESHOLD_REQUIRED,
  type WorkflowStep,
} from "./session_doc.ts";
import { type AckEntry, checkAck, checkSilence, type SilenceEntry } from "./session_incidents.ts";
import { checkUnit, UNIT_LIMITS } from "./session_units.ts";

/** Any shared type of a document (Yjs types each by the events it emits). */
// deno-lint-ignore no-explicit-any
export type SharedType = Y.AbstractType<Y.YEvent<any>>;

/**
 * What changed under one top-level key: per entry key (null: an entry without a key, which only a
 * list holds), "whole" when the entry itself was set or deleted, or the names of the fields that
 * changed inside it (an entry that is itself a shared map).
 */
export type RootChanges = Map<string | null, Set<string | null> | "whole">;

/** One top-level key of the document: the shared type it is and the check of what changed in it. */
export interface RootSchema {
  readonly type: "map" | "array" | "text";
  /**
   * Throws SessionDocError naming the first field that does not fit. `added` holds the values
   * inserted into a list in the transaction (a list's entries have no keys to say which changed).
   */
  check(root: SharedType, changes: RootChanges, key: string, added: readonly unknown[]): void;
}

/** How an entry of a map or list is described in an error, and which of its fields is its key. */
export interface EntryShape {
  /** What an entry is, for the error: `a checklist step { id, title, ... }`. */
  what: string;
  /** The field that must equal the entry's key in its map. */
  id?: string;
}

/** The error for `field` where `expected` was due and something described as `got` was found. */
function described(field: string, expected: string, got: string): SessionDocError {
  return new SessionDocError(
    field,
    `Session document field "${field}" must be ${expected}, got ${got}`,
  );
}

function plainObject(field: string, value: unknown, what: string): Record<string, unknown> {
  if (
    value === null || typeof value !== "object" || Array.isArray(value) ||
    value instanceof Y.AbstractType
  ) {
    throw value instanceof Y.AbstractType
      ? described(field, what, "a shared type")
      : fieldError(field, what, value);
  }
  return value as Record<string, unknown>;
}

function asMap(root: SharedType, key: string): Y.Map<unknown> {
  if (!(root instanceof Y.Map)) throw described(key, "a map", "another shared type");
  return root;
}

function keyed(root: string, changes: RootChanges): string[] {
  const keys: string[] = [];
  for (const k of changes.keys()) {
    if (k === null) throw described(root, "a map of entries by key", "an entry without a key");
    keys.push(k);
  }
  return keys;
}

/** A map of plain entries, each checked by `check` (which may return a clean copy). */
export function mapOf<T>(check: (entry: T) => unknown, shape: EntryShape): RootSchema {
  return {
    type: "map",
    check(root, changes, key) {
      for (const k of keyed(key, changes)) {
        const value = asMap(root, key).get(k);
        if (value === undefined) continue; // deleting an entry is always fine
        const entry = plainObject(`${key}.${k}`, value, shape.what);
        if (shape.id !== undefined && entry[shape.id] !== k) {
          throw fieldError(`${key}.${k}.${shape.id}`, `"${k}" (its key)`, entry[shape.id]);
        }
        check(entry as T);
      }
    },
  };
}

/** A map of scalar values, each checked with its key by `check`; at most `max` of them. */
export function fieldsOf(
  check: (key: string, value: unknown) => void,
  max = Infinity,
): RootSchema {
  return {
    type: "map",
    check(root, changes, key) {
      const size = asMap(root, key).size;
      if (size > max) throw fieldError(key, `a map of at most ${max} entries`, size);
      for (const k of keyed(key, changes)) {
        const value = asMap(root, key).get(k);
        if (value instanceof Y.AbstractType) {
          throw described(`${key}.${k}`, "a value", "a shared type");
        }
        if (value !== undefined) check(k, value);
      }
    },
  };
}

/**
 * A map whose entries are shared maps of fields, each field checked by `fields[name]` (an entry set
 * whole has every field checked and must hold `required`; a change inside one checks the fields
 * changed). A field not in `fields` is refused.
 */
export function mapOfMaps(
  fields: Readonly<Record<string, (field: string, value: unknown) => void>>,
  required: readonly string[],
): RootSchema {
  const checkField = (f: string, name: string | null, value: unknown) => {
    if (name === null) throw described(f, "a map of fields by name", "an entry without a key");
    const check = fields[name];
    if (check === undefined) {
      throw fieldError(`${f}.${name}`, `absent (fields: ${Object.keys(fields).join(", ")})`, value);
    }
    if (value instanceof Y.AbstractType) {
      throw described(`${f}.${name}`, "a value", "a shared type");
    }
    if (value !== undefined) check(`${f}.${name}`, value);
  };
  return {
    type: "map",
    check(root, changes, key) {
      for (const k of keyed(key, changes)) {
        const entry = asMap(root, key).get(k);
        const f = `${key}.${k}`;
        if (entry === undefined) continue;
        if (!(entry instanceof Y.Map)) throw fieldError(f, "a map of fields", entry);
        const changed = changes.get(k)!;
        if (changed === "whole") {
          for (const need of required) {
            if (!entry.has(need)) throw fieldError(`${f}.${need}`, "present", undefined);
          }
          for (const [name, value] of entry.entries()) checkField(f, name, value);
        } else {
          for (const name of changed) checkField(f, name, name === null ? null : entry.get(name));
        }
      }
    },
  };
}

/** A list of plain entries, at most `max`, each entry checked by `check` as it is inserted. */
export function listOf<T>(
  check: (entry: T) => unknown,
  shape: EntryShape & { max: number },
): RootSchema {
  return {
    type: "array",
    check(root, changes, key, added) {
      for (const k of changes.keys()) {
        if (k !== null) throw fieldError(`${key}.${k}`, "absent (a list has no keys)", k);
      }
      if (!(root instanceof Y.Array)) throw described(key, "a list", "another shared type");
      const list: Y.Array<unknown> = root;
      if (list.length > shape.max) {
        throw fieldError(key, `a list of at most ${shape.max} entries`, list.toArray());
      }
      for (const value of added) check(plainObject(`${key}[]`, value, shape.what) as T);
    },
  };
}

/** Every top-level key of a session document, and what it holds. */
export const SESSION_SCHEMA: Readonly<Record<string, RootSchema>> = {
  meta: fieldsOf(checkMetaField),
  dashboard: mapOf<Panel>(checkPanel, {
    what: "a panel { id, kind, channels, title, layout }",
    id: "id",
  }),
  thresholds: mapOfMaps(THRESHOLD_FIELDS, THRESHOLD_REQUIRED),
  annotations: listOf<Annotation>(checkAnnotation, {
    what: "an annotation { id, t, channel, text, author }",
    max: DOC_LIMITS.annotations_max,
  }),
  workflow: mapOf<WorkflowStep>(checkStep, {
    what: "a checklist step { id, title, status, assignee, due }",
    id: "id",
  }),
  scans: mapOf<ScanDefinition>(checkScan, {
    what: "a scan definition { name, channels, params }",
    id: "name",
  }),
  silences: mapOf<SilenceEntry>((e) => checkSilence(`silences.${e.id}`, e), {
    what: "a silence { id, matchers, starts_ms, ends_ms, by, reason }",
    id: "id",
  }),
  units: fieldsOf(checkUnit, UNIT_LIMITS.units_max),
  acks: mapOf<AckEntry>((e) => checkAck(`acks.${e.incident}`, e), {
    what: "an acknowledgement { incident, by, at_ms, note }",
    id: "incident",
  }),
};

/**
 * Checks what one transaction changed (Yjs's `transaction.changed`: each shared type changed, with
 * the keys changed in it, null for a list's) against `schema`; throws SessionDocError for the
 * first change that does not fit, naming the field and the value. Run it in the document's
 * `afterTransaction`, before Yjs merges the transaction's items with older ones.
 */
export function checkChanged(
  tr: Y.Transaction,
  schema: Readonly<Record<string, RootSchema>> = SESSION_SCHEMA,
): void {
  const doc = tr.doc;
  const changed = tr.changed;
  const names = new Map<unknown, string>();
  for (const [name, type] of doc.share) names.set(type, name);
  const byRoot = new Map<string, RootChanges>();
  for (const [type, keys] of changed) {
    // Up to the top-level type, remembering the entry of it that holds `type`.
    let t: SharedType = type;
    let entry: Y.Item | null = null;
    while (t._item !== null) {
      entry = t._item;
      t = entry.parent as SharedType;
    }
    const root = names.get(t);
    if (root === undefined) continue; // a type outside the document's share (not reachable)
    let changes = byRoot.get(root);
    if (!changes) byRoot.set(root, changes = new Map());
    if (entry === null) {
      for (const k of keys) changes.set(k, "whole");
    } else {
      const k = entry.parentSub;
      const direct = type._item === entry && changes.get(k) !== "whole";
      if (!direct) changes.set(k, "whole");
      else {
        const held = changes.get(k);
        const fields = held instanceof Set ? held : new Set<string | null>();
        for (const f of keys) fields.add(f);
        changes.set(k, fields);
      }
    }
  }
  for (const [root, changes] of byRoot) {
    const s = schema[root];
    if (s === undefined) {
      const first = [...changes.keys()][0];
      throw new SessionDocError(
        first ? `${root}.${first}` : root,
        `Session document has no key "${root}" (its keys: ${Object.keys(schema).join(", ")}), ` +
          `got a write to "${first ? `${root}.${first}` : root}"`,
      );
    }
    const type = doc.share.get(root)!;
    s.check(type, changes, root, s.type === "array" ? inserted(tr, type) : []);
  }
}

/** The values the transaction inserted directly into `list` (and did not delete again). */
function inserted(tr: Y.Transaction, list: SharedType): unknown[] {
  const values: unknown[] = [];
  for (const [client, to] of tr.afterState) {
    const from = tr.beforeState.get(client) ?? 0;
    if (to <= from) continue;
    const structs = tr.doc.store.clients.get(client)!;
    for (let i = Y.findIndexSS(structs, from); i < structs.length; i++) {
      const s = structs[i]!;
      if (s.id.clock >= to) break;
      if (s instanceof Y.Item && s.parent === list && !s.deleted) {
        values.push(...s.content.getContent());
      }
    }
  }
  return values;
}
