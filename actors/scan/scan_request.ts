/**
 * A scan request as a client sends it (`POST /scan/stream`'s JSON body) and its validation into a
 * scan definition: the criteria and rank compile, the bar size exists, the universe is a list of
 * symbols or a `PREFIX*` pattern within the configured limit. A bad request is a ScanRequestError
 * carrying the HTTP status it deserves (400, or 413 for a universe over the limit), raised before
 * anything starts.
 */
import { compileCriteria, CriteriaError } from "../criteria/mod.ts";
import { barSizeUs } from "../bars/mod.ts";
import { isValidName, type ScanDefinition } from "../../protocol/mod.ts";

/** Limits on requests. */
export interface ScanLimits {
  /** Symbols a universe may list. */
  universe_max: number;
}

/** The default limits. */
export const defaultScanLimits: ScanLimits = { universe_max: 100_000 };

/**
 * How deep a request's values may nest (lists in lists, objects in objects): no field of a scan
 * request nests at all, so this only bounds the walk that says so; it is checked before anything
 * reads a field, without recursion, so no nesting can overflow the stack.
 */
export const SCAN_REQUEST_DEPTH_MAX = 8;
/** The longest a scan may be given to run: a day. */
export const SCAN_TIMEOUT_MS_MAX = 86_400_000;
/** The most signals a scan may be asked to stop at. */
export const SCAN_MAX_SIGNALS_MAX = 1_000_000;

/** The default priority: recent volatility, the Bollinger bandwidth over 20 bars. */
export const DEFAULT_PRIORITY = "bollinger(20, 2).bandwidth";

/** A request that cannot start a scan; `status` is the HTTP status to answer with. */
export class ScanRequestError extends Error {
  override name = "ScanRequestError";
  readonly status: number;
  /** The field at fault. */
  readonly field: string;
  constructor(status: number, field: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
    this.field = field;
  }
}

const KNOWN = [
  "criteria",
  "rank",
  "order",
  "bar",
  "universe",
  "max_signals",
  "timeout_ms",
  "priority",
];

/** Validates a request body into a definition; throws ScanRequestError naming the field. */
export function parseScanRequest(
  body: unknown,
  limits: ScanLimits = defaultScanLimits,
): ScanDefinition {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new ScanRequestError(
      400,
      "",
      `A scan request must be a JSON object, got ${shown(body)}`,
    );
  }
  const b = body as Record<string, unknown>;
  checkFields(b);
  const str = (key: string, fallback: string | null): string | null => {
    const v = b[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== "string") {
      throw new ScanRequestError(
        400,
        key,
        `Field "${key}" must be a string, got ${shown(v)}`,
      );
    }
    return v;
  };
  const positive = (key: string, max: number): number | null => {
    const v = b[key];
    if (v === undefined || v === null) return null;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > max) {
      throw new ScanRequestError(
        400,
        key,
        `Field "${key}" must be a whole number from 1 to ${max}, got ${shown(v)}`,
      );
    }
    return v;
  };
  const criteria = str("criteria", null);
  if (criteria === null) {
    throw new ScanRequestError(400, "criteria", `Field "criteria" is required`);
  }
  const rank = str("rank", null);
  const order = str("order", "desc")!;
  if (order !== "asc" && order !== "desc") {
    throw new ScanRequestError(
      400,
      "order",
      `Field "order" must be "asc" or "desc", got ${shown(order)}`,
    );
  }
  const priority = str("priority", DEFAULT_PRIORITY)!;
  compileOrThrow("criteria", criteria, rank, order);
  compileOrThrow("priority", "1 > 0", priority, "desc");
  const bar = str("bar", "1m")!;
  if (barSizeUs(bar) === undefined) {
    throw new ScanRequestError(
      400,
      "bar",
      `Field "bar" must be a bar size such as "1m", got ${shown(bar)}`,
    );
  }
  return {
    criteria,
    rank,
    order,
    bar,
    universe: parseUniverse(b.universe, limits),
    max_signals: positive("max_signals", SCAN_MAX_SIGNALS_MAX),
    timeout_ms: positive("timeout_ms", SCAN_TIMEOUT_MS_MAX),
    priority,
  };
}

function compileOrThrow(
  field: string,
  criteria: string,
  rank: string | null,
  order: "asc" | "desc",
) {
  try {
    compileCriteria(criteria, rank === null ? { order } : { rank, order });
  } catch (e) {
    if (!(e instanceof CriteriaError)) throw e;
    const which = e.expression === "rank" && field === "criteria" ? "rank" : field;
    throw new ScanRequestError(400, which, `Field "${which}": ${e.message}`, { cause: e });
  }
}

function parseUniverse(u: unknown, limits: ScanLimits): string[] | string | null {
  if (u === undefined || u === null) return null;
  if (typeof u === "string") {
    if (!/^[A-Za-z0-9_-]{0,63}\*$/.test(u) && !isValidName(u)) {
      throw new ScanRequestError(
        400,
        "universe",
        `Field "universe" must be a list of symbols or a PREFIX* pattern, got ${shown(u)}`,
      );
    }
    return u.endsWith("*") ? u : [u];
  }
  if (!Array.isArray(u)) {
    throw new ScanRequestError(
      400,
      "universe",
      `Field "universe" must be a list of symbols or a PREFIX* pattern, got ${shown(u)}`,
    );
  }
  if (u.length > limits.universe_max) {
    throw new ScanRequestError(
      413,
      "universe",
      `Field "universe" lists ${u.length} symbols; the limit is ${limits.universe_max}`,
    );
  }
  u.forEach((s, i) => {
    if (!isValidName(s)) {
      throw new ScanRequestError(
        400,
        "universe",
        `Field "universe" item ${i} is not a symbol name ([A-Za-z0-9_-]{1,64}): ${shown(s)}`,
      );
    }
  });
  return [...new Set(u as string[])];
}

/**
 * A request's value as an error message shows it: a primitive as JSON (a string cut at 80
 * characters), a list or an object by its size, never walked (it may nest without bound).
 */
function shown(v: unknown): string {
  if (Array.isArray(v)) return `a list of ${v.length} items`;
  if (v !== null && typeof v === "object") return `an object of ${Object.keys(v).length} fields`;
  if (typeof v === "string" && v.length > 80) return JSON.stringify(v.slice(0, 77) + "...");
  return v === undefined ? "nothing" : JSON.stringify(v);
}

/**
 * Throws for a field of `b` that is not a request's, or that nests past SCAN_REQUEST_DEPTH_MAX,
 * naming it (and the limit).
 */
function checkFields(b: Record<string, unknown>): void {
  for (const key of Object.keys(b)) {
    if (!KNOWN.includes(key)) {
      throw new ScanRequestError(
        400,
        key,
        `Unknown field "${key}"; known fields: ${KNOWN.join(", ")}`,
      );
    }
  }
  for (const key of Object.keys(b)) {
    if (nestsOver(b[key], SCAN_REQUEST_DEPTH_MAX)) {
      throw new ScanRequestError(
        400,
        key,
        `Field "${key}" nests lists or objects more than ${SCAN_REQUEST_DEPTH_MAX} levels deep; ` +
          `the limit is ${SCAN_REQUEST_DEPTH_MAX}`,
      );
    }
  }
}

/**
 * Whether `v` nests lists or objects more than `max` levels deep: an explicit stack, not
 * recursion, that stops at the first value too deep (the body's size bounds the rest).
 */
function nestsOver(v: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[v, 0]];
  while (stack.length > 0) {
    const [x, depth] = stack.pop()!;
    if (x === null || typeof x !== "object") continue;
    if (depth >= max) return true;
    for (const item of Array.isArray(x) ? x : Object.values(x)) {
      if (item !== null && typeof item === "object") stack.push([item, depth + 1]);
    }
  }
  return false;
}
