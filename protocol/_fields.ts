/**
 * The fields of one decoded map, read and checked by type, each error a ProtocolError naming the
 * message, the field and the value: what the scan's decoders (its msgpack messages and journal
 * records, its JSON results, its published results) read their maps with.
 */
import { decodeValue } from "./envelope.ts";
import { describeValue, ProtocolError } from "./protocol_error.ts";

/** A map's fields, read by type; `what` names the message in every error. */
export class Fields {
  readonly m: Record<string, unknown>;
  readonly what: string;

  /** The fields of `bytes`, a msgpack map. */
  static of(bytes: Uint8Array, what: string): Fields {
    return Fields.ofValue(parsed(what, "msgpack", () => decodeValue(bytes)), what);
  }

  /** The items of `bytes`, a msgpack list. */
  static listOf(bytes: Uint8Array, what: string): unknown[] {
    const v = parsed(what, "msgpack", () => decodeValue(bytes));
    if (!Array.isArray(v)) {
      throw new ProtocolError(
        "decode",
        `Cannot decode ${what}: not a list, got ${describeValue(v)}`,
      );
    }
    return v;
  }

  /** The fields of `text`, a JSON object. */
  static ofJson(text: string, what: string): Fields {
    return Fields.ofValue(parsed(what, "JSON", () => JSON.parse(text)), what);
  }

  /** The fields of `v`, which must be a map. */
  static ofValue(v: unknown, what: string): Fields {
    if (!isMap(v)) {
      throw new ProtocolError(
        "decode",
        `Cannot decode ${what}: not a map, got ${describeValue(v)}`,
      );
    }
    return new Fields(v, what);
  }

  constructor(m: Record<string, unknown>, what: string) {
    this.m = m;
    this.what = what;
  }

  fail(field: string, value: unknown, why: string): ProtocolError {
    return new ProtocolError(
      "field",
      `Cannot decode ${this.what}: field "${field}" ${why}, got ${describeValue(value)}`,
      { field, value },
    );
  }

  str(field: string): string {
    const v = this.m[field];
    if (typeof v !== "string") throw this.fail(field, v, "must be a string");
    return v;
  }

  num(field: string): number {
    const v = this.m[field];
    if (typeof v !== "number" || !Number.isFinite(v)) throw this.fail(field, v, "must be a number");
    return v;
  }

  count(field: string, v: unknown = this.m[field], name = field): number {
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
      throw this.fail(name, v, "must be a whole number >= 0");
    }
    return v;
  }

  counts(field: string): number[] {
    const v = this.m[field];
    if (!Array.isArray(v)) throw this.fail(field, v, "must be a list of whole numbers >= 0");
    return v.map((x, i) => this.count(field, x, `${field}[${i}]`));
  }

  strings(field: string, v: unknown = this.m[field], name = field): string[] {
    if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) {
      throw this.fail(name, v, "must be a list of strings");
    }
    return v as string[];
  }

  /** One of `choices`, each a string. */
  oneOf<T extends string>(field: string, choices: readonly T[]): T {
    const v = this.m[field];
    if (typeof v !== "string" || !(choices as readonly string[]).includes(v)) {
      const said = choices.map((c) => `"${c}"`);
      throw this.fail(field, v, `must be ${said.slice(0, -1).join(", ")} or ${said.at(-1)}`);
    }
    return v as T;
  }

  orNull<T>(field: string, read: () => T): T | null {
    return this.m[field] === null ? null : read();
  }
}

/** What `parse` gives; what it throws becomes a ProtocolError saying `what` is not `format`. */
function parsed(what: string, format: string, parse: () => unknown): unknown {
  try {
    return parse();
  } catch (e) {
    throw new ProtocolError(
      "decode",
      `Cannot decode ${what}: not ${format} (${(e as Error).message})`,
    );
  }
}

/** Whether `v` is a map (not null, a list or bytes). */
export function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Uint8Array);
}
