/**
 * Reads the fields of an event body one by one, each checked, so that a bad body is refused with a
 * ProtocolError that names the event, the field and the value: `Cannot decode collapse event: field
 * "change_ts" must be an integer (µs), got "soon"`. Every decoder in this folder reads through it.
 */
import { describeValue, ProtocolError } from "../protocol_error.ts";
import { isValidName } from "../subjects.ts";

/** The checked fields of one body. */
export class BodyReader {
  readonly #fields: Record<string, unknown>;
  readonly #where: string;

  /** A reader of `body` (any decoded value) for the event named in `where`. */
  constructor(body: unknown, where: string) {
    this.#where = where;
    if (body === null || typeof body !== "object" || Array.isArray(body)) {
      throw new ProtocolError(
        "field",
        `Cannot decode ${where}: field "body" must be a map, got ${describeValue(body)}`,
        { field: "body", value: body },
      );
    }
    this.#fields = body as Record<string, unknown>;
  }

  /** Whether the body has `field`. */
  has(field: string): boolean {
    return this.#fields[field] !== undefined;
  }

  /** A number (NaN and the infinities pass: a measure may be undefined at its edge). */
  num(field: string): number {
    const v = this.#fields[field];
    if (typeof v === "number") return v;
    throw this.#bad(field, "a number", v);
  }

  /** A safe integer. */
  int(field: string): number {
    const v = this.#fields[field];
    if (typeof v === "number" && Number.isSafeInteger(v)) return v;
    throw this.#bad(field, "an integer", v);
  }

  /** A non-negative safe integer. */
  count(field: string): number {
    const v = this.#fields[field];
    if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return v;
    throw this.#bad(field, "a non-negative integer", v);
  }

  /** A string. */
  str(field: string): string {
    const v = this.#fields[field];
    if (typeof v === "string") return v;
    throw this.#bad(field, "a string", v);
  }

  /** A channel, group or stream token: `[A-Za-z0-9_-]{1,64}`. */
  name(field: string): string {
    const v = this.#fields[field];
    if (isValidName(v)) return v;
    throw this.#bad(field, "a name (A-Z a-z 0-9 _ -, 1 to 64)", v);
  }

  /** One of `values`. */
  oneOf<T extends string>(field: string, values: readonly T[]): T {
    const v = this.#fields[field];
    if (values.includes(v as T)) return v as T;
    throw this.#bad(field, `one of ${values.join(", ")}`, v);
  }

  /** An array, each item read by `item` with a reader named `<where> field[i]`. */
  list<T>(field: string, item: (r: BodyReader, at: string) => T): T[] {
    const v = this.#fields[field];
    if (!Array.isArray(v)) throw this.#bad(field, "an array", v);
    return v.map((x, i) => item(new BodyReader(x, `${this.#where}: ${field}[${i}]`), `${i}`));
  }

  /** A boolean. */
  bool(field: string): boolean {
    const v = this.#fields[field];
    if (typeof v === "boolean") return v;
    throw this.#bad(field, "a boolean", v);
  }

  /** A string or null. */
  strOrNull(field: string): string | null {
    const v = this.#fields[field];
    if (v === null || typeof v === "string") return v;
    throw this.#bad(field, "a string or null", v);
  }

  /** The field as it came, unchecked (a value whose shape another decoder owns). */
  raw(field: string): unknown {
    return this.#fields[field];
  }

  /** A string when present, else undefined. */
  optStr(field: string): string | undefined {
    return this.has(field) ? this.str(field) : undefined;
  }

  #bad(field: string, want: string, value: unknown): ProtocolError {
    return new ProtocolError(
      value === undefined ? "field" : "value",
      `Cannot decode ${this.#where}: field "${field}" must be ${want}, got ${describeValue(value)}`,
      { field, value },
    );
  }
}
