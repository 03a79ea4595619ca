/**
 * The criteria checker: resolves every name of a syntax tree against the bar fields and the
 * indicator catalog, checks arities, parameter ranges and types (a number where a number is
 * needed, a condition where a condition is), and works out how many bars the expression needs.
 * Everything a user can get wrong is found here, before any symbol is scanned.
 */
import { BAR_FIELDS, type BarField } from "../indicators/mod.ts";
import type { CallArg, Node } from "./ast.ts";
import { CriteriaError } from "./criteria_error.ts";
import { INDICATORS, type IndicatorSpec, publicOutputs } from "./indicator_catalog.ts";

/** What a node evaluates to. */
export type ValueType = "number" | "condition";

/** A distinct indicator call, computed once per symbol however often the expression names it. */
export interface CallSlot {
  key: string;
  spec: IndicatorSpec;
  source: BarField | null;
  params: number[];
}

/** A call node resolved: its slot and which of the slot's outputs it reads. */
export interface ResolvedCall {
  slot: CallSlot;
  output: number;
}

/** What the checker learned about an expression. */
export interface Checked {
  type: ValueType;
  /** Bars needed before the expression has a value at the last bar. */
  barsNeeded: number;
  /** How many bars before the last one the expression reads (1 inside crosses_above). */
  lagMax: number;
  /** Resolution of each call node. */
  calls: Map<Node, ResolvedCall>;
}

const FIELDS = new Set<string>(BAR_FIELDS);

/**
 * Checks `root`, adding its indicator calls to `slots` (shared between the criteria and the rank).
 */
export function check(root: Node, expression: string, slots: Map<string, CallSlot>): Checked {
  const calls = new Map<Node, ResolvedCall>();
  let barsNeeded = 1, lagMax = 0;
  const fail = (col: number, message: string) => new CriteriaError(expression, col, message);

  const visit = (node: Node, lag: number): ValueType => {
    switch (node.kind) {
      case "num":
        return "number";
      case "field":
        if (!FIELDS.has(node.name)) throw fail(node.col, unknownName(node.name));
        barsNeeded = Math.max(barsNeeded, 1 + lag);
        lagMax = Math.max(lagMax, lag);
        return "number";
      case "call": {
        const resolved = resolveCall(node, slots, fail);
        calls.set(node, resolved);
        const warmup = resolved.slot.spec.warmup(resolved.slot.params, resolved.output);
        barsNeeded = Math.max(barsNeeded, warmup + lag);
        lagMax = Math.max(lagMax, lag);
        return "number";
      }
      case "neg":
        need(node.a, "number", visit(node.a, lag));
        return "number";
      case "not":
        need(node.a, "condition", visit(node.a, lag));
        return "condition";
      case "cross":
        need(node.a, "number", visit(node.a, lag + 1));
        need(node.b, "number", visit(node.b, lag + 1));
        return "condition";
      case "binary": {
        const logical = node.op === "and" || node.op === "or";
        const arithmetic = "+-*/".includes(node.op);
        const operand: ValueType = logical ? "condition" : "number";
        need(node.a, operand, visit(node.a, lag));
        need(node.b, operand, visit(node.b, lag));
        return arithmetic ? "number" : "condition";
      }
    }
  };

  const need = (node: Node, want: ValueType, got: ValueType) => {
    if (want === got) return;
    throw fail(
      node.col,
      want === "number"
        ? "expected a number, got a condition (a comparison, crosses_above/below, and, or, not)"
        : "expected a condition (a comparison such as rsi(14) < 30), got a number",
    );
  };

  const type = visit(root, 0);
  return { type, barsNeeded, lagMax, calls };
}

function unknownName(name: string): string {
  if (INDICATORS.has(name)) return `${name} is an indicator: call it, as ${name}(…)`;
  return `unknown name '${name}'; expected a bar field (${
    BAR_FIELDS.join(", ")
  }) or an indicator ` +
    `(${[...INDICATORS.keys()].join(", ")})`;
}

function resolveCall(
  node: Extract<Node, { kind: "call" }>,
  slots: Map<string, CallSlot>,
  fail: (col: number, message: string) => CriteriaError,
): ResolvedCall {
  const spec = INDICATORS.get(node.name);
  if (!spec) {
    const hint = FIELDS.has(node.name) ? `${node.name} is a bar field: use it without '(…)'` : "";
    throw fail(
      node.col,
      hint ||
        `unknown indicator '${node.name}'; expected one of ${[...INDICATORS.keys()].join(", ")}`,
    );
  }
  let args: CallArg[] = node.args;
  let source: BarField | null = spec.source;
  const first = args[0];
  if (first?.kind === "field") {
    if (spec.source === null) throw fail(first.col, `${spec.name} reads whole bars, not a column`);
    if (!FIELDS.has(first.name)) throw fail(first.col, unknownName(first.name));
    source = first.name as BarField;
    args = args.slice(1);
  }
  const required = spec.params.filter((p) => p.default === undefined).length;
  const names = spec.params.map((p) => p.name).join(", ");
  if (args.length < required || args.length > spec.params.length) {
    const range = required === spec.params.length
      ? `${required}`
      : `${required} to ${spec.params.length}`;
    throw fail(node.col, `${spec.name} takes ${range} numbers (${names}), got ${args.length}`);
  }
  const params = spec.params.map((p, i) => {
    const arg = args[i];
    if (arg === undefined) return p.default!;
    if (arg.kind !== "num") {
      throw fail(arg.col, `expected a number for ${spec.name}'s ${p.name}, got ${arg.name}`);
    }
    const v = arg.value;
    if ((p.integer && !Number.isInteger(v)) || !(v >= p.min && v <= p.max)) {
      const kind = p.integer ? "an integer" : "a number";
      throw fail(
        arg.col,
        `${spec.name}'s ${p.name} must be ${kind} from ${p.min} to ${p.max}, got ${v}`,
      );
    }
    return v;
  });
  const visible = publicOutputs(spec);
  let output = 0;
  if (node.output) {
    if (visible.length === 1) {
      throw fail(node.output.col, `${spec.name} gives one value; remove '.${node.output.name}'`);
    }
    output = visible.indexOf(node.output.name);
    if (output < 0) {
      throw fail(
        node.output.col,
        `${spec.name} has no value '${node.output.name}'; expected ${visible.join(", ")}`,
      );
    }
  } else if (visible.length > 1) {
    throw fail(node.end, `${spec.name} gives several values: expected .${visible.join(", .")}`);
  }
  const key = `${spec.name}(${source ?? "bars"},${params.join(",")})`;
  let slot = slots.get(key);
  if (!slot) {
    slot = { key, spec, source, params };
    slots.set(key, slot);
  }
  return { slot, output };
}
