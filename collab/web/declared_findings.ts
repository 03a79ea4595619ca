/**
 * The kinds of finding the server's process knows, handed to the dashboard's page: the page
 * cannot load a user's kind modules, so the server writes the declarations (plain data: type,
 * measure, edges, unit, channel field) into the page as JSON, and the page registers them before
 * it subscribes. Its event list then shows a user's kind's findings exactly as troupe's own, with
 * the same words and severity `troupe watch` gives them. Pure: it bundles for the browser.
 */
import {
  findingActorOf,
  type FindingKind,
  findingKinds,
  registerKindFindings,
} from "../../protocol/mod.ts";

/** The id of the page's script element holding the declarations. */
export const DECLARED_FINDINGS_ID = "troupe-finding-kinds";

/** A declared kind of finding and the actor kind whose outputs carry it. */
export interface DeclaredFinding {
  actor: string;
  kind: FindingKind;
}

/** Every kind of finding this process knows, as data (a declaration's `check` stays behind). */
export function declaredFindings(): DeclaredFinding[] {
  return findingKinds().map((k) => {
    const { check: _check, ...kind } = k;
    return { actor: findingActorOf(k.type) ?? k.type, kind };
  });
}

/** The page's element holding `list` (JSON, with `<` escaped so no text can close it). */
export function declaredFindingsTag(list: readonly DeclaredFinding[]): string {
  const json = JSON.stringify(list).replaceAll("<", "\\u003c");
  return `<script type="application/json" id="${DECLARED_FINDINGS_ID}">${json}</script>`;
}

/**
 * Registers the declarations of `text` (the element's JSON); returns the actor kinds whose
 * outputs carry them. A declaration the registry refuses is skipped and said on the console.
 */
export function registerDeclaredFindings(text: string): string[] {
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch (err) {
    console.warn(`Cannot read the page's finding kinds: not JSON (${(err as Error).message})`);
    return [];
  }
  if (!Array.isArray(list)) return [];
  const actors = new Set<string>();
  for (const d of list as DeclaredFinding[]) {
    try {
      registerKindFindings(d.actor, [d.kind]);
      actors.add(d.actor);
    } catch (err) {
      console.warn(`Cannot register finding kind ${JSON.stringify(d?.kind?.type)}: ${err}`);
    }
  }
  return [...actors];
}
