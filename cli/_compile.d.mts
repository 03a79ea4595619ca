/** Types of cli/_compile.mjs (plain JavaScript: it runs before any TypeScript can be loaded). */

/** The repository: the folder above cli/. */
export declare const REPO_DIR: string;

/** `code` with its relative `.ts` module specifiers (and URLs) pointing at `.js` files. */
export declare function rewriteSpecifiers(code: string): string;

/**
 * The file URL of `cli/main.js` in an up-to-date compiled mirror of the sources, or undefined when
 * none can be made here.
 */
export declare function compiledMain(): Promise<string | undefined>;

/**
 * The files of the source folders whose names end in one of `extensions` (`.ts`: the sources to
 * transpile, `.d.ts` left out; `.mjs`: plain JavaScript modules the sources import), sorted.
 */
export declare function listSourceFiles(extensions: readonly string[]): string[];

/**
 * Copies the plain JavaScript modules the sources import into `outDir`, at the same paths, each
 * with its types (`x.d.mts`) where it has them.
 */
export declare function carryModules(modules: readonly string[], outDir: string): void;
