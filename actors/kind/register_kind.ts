/**
 * The one door every actor kind goes through, troupe's own and a user's: `registerKind` checks a
 * kind's definition, registers the findings it declares (so incidents, `troupe watch`, the
 * dashboard and alerting know them), and hands it back. `kindRegistry` makes the by-name table a
 * host is given, refusing two kinds of one name.
 */
import {
  type AnyActorDefinition,
  ConfigError,
  describeValue,
  isValidName,
  registerKindFindings,
} from "../../protocol/mod.ts";

/** Kinds one registry may hold, at most. */
export const KINDS_MAX = 256;

/** Checks `def`, registers its findings and returns it; throws ConfigError naming what is wrong. */
export function registerKind<D extends AnyActorDefinition>(def: D): D {
  const at = `kind ${describeValue(def?.kind)}`;
  if (!isValidName(def?.kind)) {
    throw new ConfigError(
      "kind",
      `An actor kind's name must be 1 to 64 of A-Z a-z 0-9 _ -, got ${describeValue(def?.kind)}`,
      { value: def?.kind },
    );
  }
  if (!Number.isSafeInteger(def.version) || def.version < 0) {
    throw new ConfigError(
      `${def.kind}.version`,
      `The ${at}: version must be a non-negative integer, got ${describeValue(def.version)}`,
      { value: def.version },
    );
  }
  for (const fn of ["init", "step", "save", "load"] as const) {
    if (typeof def.kernel?.[fn] !== "function") {
      throw new ConfigError(
        `${def.kind}.kernel.${fn}`,
        `The ${at}: kernel.${fn} must be a function, got ${describeValue(def.kernel?.[fn])}`,
      );
    }
  }
  for (const fn of ["parseConfig", "route", "frameEvent"] as const) {
    if (typeof def[fn] !== "function") {
      throw new ConfigError(
        `${def.kind}.${fn}`,
        `The ${at}: ${fn} must be a function, got ${describeValue(def[fn])}`,
      );
    }
  }
  if (def.heldBytes !== undefined && typeof def.heldBytes !== "function") {
    throw new ConfigError(
      `${def.kind}.heldBytes`,
      `The ${at}: heldBytes must be a function, got ${describeValue(def.heldBytes)}`,
    );
  }
  if (def.feeds !== undefined && def.feeds !== "any" && def.feeds !== "markets") {
    throw new ConfigError(
      `${def.kind}.feeds`,
      `The ${at}: feeds must be "any" or "markets", got ${describeValue(def.feeds)}`,
      { value: def.feeds },
    );
  }
  registerKindFindings(def.kind, def.findings ?? []);
  return def;
}

/** The kinds `defs`, registered, by name; throws on two of one name or more than KINDS_MAX. */
export function kindRegistry(
  defs: readonly AnyActorDefinition[],
): Readonly<Record<string, AnyActorDefinition>> {
  if (defs.length > KINDS_MAX) {
    throw new ConfigError("kinds", `At most ${KINDS_MAX} actor kinds may run, got ${defs.length}`);
  }
  const out: Record<string, AnyActorDefinition> = {};
  for (const def of defs) {
    registerKind(def);
    const had = out[def.kind];
    if (had !== undefined && had !== def) {
      throw new ConfigError(
        "kinds",
        `Two actor kinds are named "${def.kind}": a kind's name must be unique among the kinds a ` +
          "host runs",
        { value: def.kind },
      );
    }
    out[def.kind] = def;
  }
  return Object.freeze(out);
}
