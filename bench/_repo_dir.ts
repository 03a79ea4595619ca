/**
 * Where a benchmark runs from: the repository, or on Node its compiled mirror (cli/_compile.mjs),
 * which child scripts are started from and where `.troupe/` and `../shared` are found.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The root of the sources this module runs from: the repository, or on Node the compiled mirror
 * of it that cli/_compile.mjs keeps under `node_modules/.cache/troupe/js-<hash>/`.
 */
export const SOURCE_DIR = fileURLToPath(new URL("../", import.meta.url));

/** Whether this module runs from the compiled mirror (JavaScript, no tsx needed). */
export const COMPILED = import.meta.url.endsWith(".js");

/** The repository's root directory (where `.troupe/` and `../shared` are found). */
export const REPO_DIR = COMPILED ? join(SOURCE_DIR, "..", "..", "..", "..") : SOURCE_DIR;
