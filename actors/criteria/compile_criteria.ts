/**
 * Compiles a scan's criteria (a condition) and rank (a number) once into an evaluator: the
 * expressions become closures over per-scan buffers, each distinct indicator call is computed once
 * per symbol into buffers reused from symbol to symbol, and a symbol with fewer bars than the
 * expressions need is reported as insufficient history instead of being scored.
 *
 * An indicator is computed when the expression first reads it, and `and`/`or` stop at their first
 * operand when it decides: `rsi(14) < 45 and macd(12,26,9).hist > 0` computes no MACD for a symbol
 * whose RSI is 45 or more. The verdict is the same as computing every indicator first (the history
 * each one needs is checked before any is computed, and the indicators are pure functions of the
 * bars), at a fraction of the cost when the first conditions are selective.
 */
import { type BarColumns, crossesAbove, crossesBelow } from "../indicators/mod.ts";
import type { Node } from "./ast.ts";
import { type CallSlot, check, type ResolvedCall } from "./_checker.ts";
import { CriteriaError } from "./criteria_error.ts";
import { parse } from "./_parser.ts";

/** Options of {@link compileCriteria}. */
export interface CriteriaOptions {
  /** A numeric expression to rank matches by. */
  rank?: string;
  /** Best first: "desc" (default) puts the highest rank first. */
  order?: "asc" | "desc";
}

/** What a symbol's bars make of the criteria. */
export type Verdict =
  | { kind: "match"; rank: number | null }
  | { kind: "no_match" }
  | { kind: "insufficient_history"; needed: number; have: number };

type Eval = (i: number) => number;

interface Context {
  bars: BarColumns;
  /** The evaluation under way (one per symbol): a slot computed for an older one is stale. */
  round: number;
  /** Where the windowed indicators start: the last bar less the deepest lag read. */
  from: number;
}

interface Slot extends CallSlot {
  /** Backing buffers (capacity ≥ the bars) and the views of the current length. */
  backing: Float64Array[];
  outs: Float64Array[];
  /** The evaluation round its outputs were computed for. */
  round: number;
}

/** A compiled criteria: evaluate it on each symbol's bars. */
export class CompiledCriteria {
  /** The criteria and rank as given. */
  readonly criteria: string;
  readonly rank: string | undefined;
  readonly order: "asc" | "desc";
  /** Bars a symbol needs for a verdict. */
  readonly barsNeeded: number;
  #criteria: Eval;
  #rank: Eval | undefined;
  #slots: Slot[];
  #ctx: Context;
  #lagMax: number;

  /** @internal use {@link compileCriteria}. */
  constructor(
    source: { criteria: string; rank: string | undefined; order: "asc" | "desc" },
    compiled: {
      criteria: Eval;
      rank: Eval | undefined;
      slots: Slot[];
      ctx: Context;
      barsNeeded: number;
      lagMax: number;
    },
  ) {
    this.criteria = source.criteria;
    this.rank = source.rank;
    this.order = source.order;
    this.barsNeeded = compiled.barsNeeded;
    this.#criteria = compiled.criteria;
    this.#rank = compiled.rank;
    this.#slots = compiled.slots;
    this.#ctx = compiled.ctx;
    this.#lagMax = compiled.lagMax;
  }

  /** The verdict on a symbol's bars (oldest first), at its last bar. */
  evaluate(bars: BarColumns): Verdict {
    const n = bars.close.length;
    if (n < this.barsNeeded) {
      return { kind: "insufficient_history", needed: this.barsNeeded, have: n };
    }
    const ctx = this.#ctx;
    ctx.bars = bars;
    ctx.from = n - 1 - this.#lagMax;
    // Slots are computed on first read (see `computed`); a new round makes every one stale.
    ctx.round = ctx.round >= Number.MAX_SAFE_INTEGER ? 1 : ctx.round + 1;
    if (ctx.round === 1) { for (const slot of this.#slots) slot.round = 0; }
    const last = n - 1;
    if (this.#criteria(last) === 0) return { kind: "no_match" };
    if (!this.#rank) return { kind: "match", rank: null };
    const r = this.#rank(last);
    return { kind: "match", rank: Number.isFinite(r) ? r : null };
  }

  /** Orders two ranks best first (null ranks last). */
  compareRanks(a: number | null, b: number | null): number {
    if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
    return this.order === "desc" ? b - a : a - b;
  }
}

/** Parses and checks `criteria` (and `options.rank`); throws CriteriaError naming the column. */
export function compileCriteria(criteria: string, options: CriteriaOptions = {}): CompiledCriteria {
  const order = options.order ?? "desc";
  if (order !== "asc" && order !== "desc") {
    throw new CriteriaError(
      "order",
      1,
      `order must be "asc" or "desc", got ${JSON.stringify(order)}`,
    );
  }
  const slots = new Map<string, CallSlot>();
  const criteriaTree = parse(criteria, "criteria");
  const checked = check(criteriaTree, "criteria", slots);
  if (checked.type !== "condition") {
    throw new CriteriaError(
      "criteria",
      1,
      "expected a condition (a comparison such as rsi(14) < 30), got a number",
    );
  }
  let rankChecked: ReturnType<typeof check> | undefined;
  let rankTree: Node | undefined;
  if (options.rank !== undefined) {
    rankTree = parse(options.rank, "rank");
    rankChecked = check(rankTree, "rank", slots);
    if (rankChecked.type !== "number") {
      throw new CriteriaError(
        "rank",
        1,
        "expected a number to rank by, got a condition",
      );
    }
  }
  const ctx: Context = { bars: undefined as unknown as BarColumns, round: 0, from: 0 };
  const built = new Map<CallSlot, Slot>();
  for (const s of slots.values()) {
    const backing = s.spec.outputs.map(() => new Float64Array(0));
    built.set(s, { ...s, backing, outs: backing.slice(), round: 0 });
  }
  const resolve = (call: ResolvedCall) => ({ slot: built.get(call.slot)!, output: call.output });
  const calls = new Map([...checked.calls, ...(rankChecked?.calls ?? [])]);
  const build = (node: Node) => toClosure(node, ctx, (n) => resolve(calls.get(n)!));
  return new CompiledCriteria(
    { criteria, rank: options.rank, order },
    {
      criteria: build(criteriaTree),
      rank: rankTree ? build(rankTree) : undefined,
      slots: [...built.values()],
      ctx,
      barsNeeded: Math.max(checked.barsNeeded, rankChecked?.barsNeeded ?? 1),
      lagMax: Math.max(checked.lagMax, rankChecked?.lagMax ?? 0),
    },
  );
}

/** `slot` with its outputs computed over the current symbol's bars (once per evaluation). */
function computed(slot: Slot, ctx: Context): Slot {
  if (slot.round === ctx.round) return slot;
  const bars = ctx.bars;
  const n = bars.close.length;
  if (slot.outs[0]!.length !== n) resize(slot, n);
  const src = slot.source === null ? bars.close : bars[slot.source];
  slot.spec.compute(bars, src, slot.params, slot.outs, ctx.from);
  slot.round = ctx.round;
  return slot;
}

function resize(slot: Slot, n: number): void {
  for (let k = 0; k < slot.backing.length; k++) {
    if (slot.backing[k]!.length < n) slot.backing[k] = new Float64Array(Math.max(n, 64));
    slot.outs[k] = slot.backing[k]!.subarray(0, n);
  }
}

function toClosure(
  node: Node,
  ctx: Context,
  callOf: (node: Node) => { slot: Slot; output: number },
): Eval {
  const go = (n: Node) => toClosure(n, ctx, callOf);
  switch (node.kind) {
    case "num": {
      const v = node.value;
      return () => v;
    }
    case "field": {
      const f = node.name as keyof BarColumns;
      return (i) => ctx.bars[f][i]!;
    }
    case "call": {
      const { slot, output } = callOf(node);
      return (i) => computed(slot, ctx).outs[output]![i]!;
    }
    case "neg": {
      const a = go(node.a);
      return (i) => -a(i);
    }
    case "not": {
      const a = go(node.a);
      return (i) => a(i) === 0 ? 1 : 0;
    }
    case "cross": {
      const a = go(node.a), b = go(node.b);
      const cross = node.direction === "above" ? crossesAbove : crossesBelow;
      return (i) => cross(a(i - 1), b(i - 1), a(i), b(i)) ? 1 : 0;
    }
    case "binary":
      return binary(node.op, go(node.a), go(node.b));
  }
}

function binary(op: string, a: Eval, b: Eval): Eval {
  switch (op) {
    case "and":
      return (i) => a(i) !== 0 && b(i) !== 0 ? 1 : 0;
    case "or":
      return (i) => a(i) !== 0 || b(i) !== 0 ? 1 : 0;
    case "<":
      return (i) => a(i) < b(i) ? 1 : 0;
    case "<=":
      return (i) => a(i) <= b(i) ? 1 : 0;
    case ">":
      return (i) => a(i) > b(i) ? 1 : 0;
    case ">=":
      return (i) => a(i) >= b(i) ? 1 : 0;
    case "==":
      return (i) => a(i) === b(i) ? 1 : 0;
    case "!=":
      return (i) => a(i) !== b(i) ? 1 : 0;
    case "+":
      return (i) => a(i) + b(i);
    case "-":
      return (i) => a(i) - b(i);
    case "*":
      return (i) => a(i) * b(i);
    default:
      return (i) => a(i) / b(i);
  }
}
