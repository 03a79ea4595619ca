/**
 * The host of `troupe bench remote-write`'s detector run, in a process of its own (its memory is
 * what is measured): `troupe run --config <file>`, the receiver in its config's `remote_write`.
 */
import process from "node:process";
import { finish, main } from "../cli/main.ts";

finish(await main(["run", "--config", process.argv[2]!]));
