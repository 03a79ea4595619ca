/**
 * Which nats-server binary a cluster on one machine starts: the one `TROUPE_NATS_SERVER` names,
 * or the one on PATH; and why there is none, in words that end a sentence.
 */
import { existsSync } from "node:fs";
import process from "node:process";
import { findNatsServer } from "../runtime/mod.ts";

/** The environment variable naming the nats-server binary `troupe up` starts (PATH otherwise). */
export const NATS_SERVER_ENV = "TROUPE_NATS_SERVER";

/** The nats-server binary: the one `TROUPE_NATS_SERVER` names, if it exists, or the one on PATH. */
export function natsServerBinary(): string | undefined {
  const named = process.env[NATS_SERVER_ENV];
  if (named) return existsSync(named) ? named : undefined;
  return findNatsServer();
}

/** Why `natsServerBinary` found none. */
export function whyNoNatsServer(): string {
  const named = process.env[NATS_SERVER_ENV];
  return named
    ? `and ${NATS_SERVER_ENV} names "${named}", which does not exist`
    : "which is not on PATH";
}
