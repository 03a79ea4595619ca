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
