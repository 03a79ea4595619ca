/**
 * deadly_kinds.ts as a kinds module (a `registry`), as a host's threads load one: for tests that
 * start worker threads on it from the sources (a generated module naming the sources by URL is
 * what `troupe run` hands them).
 */
import { kindRegistry } from "../../actors/kind/mod.ts";
import { deadly } from "./deadly_kinds.ts";

/** Kind "deadly", by name. */
export const registry = kindRegistry([deadly]);
