/// <reference lib="dom" />
/**
 * Where the dashboard's layout (its chart panels) is kept: the session document's `dashboard` map,
 * shared live with the team, or, with "just my view", this browser's own copy (localStorage, per
 * session), which nobody else sees and a viewer may edit too. Switching to "just my view" starts
 * from the shared layout as it is.
 */
import { checkPanel, type Panel } from "../../../session/mod.ts";
import type { SessionLink } from "../link/mod.ts";

/** The shared or personal layout of the page. */
export class LayoutStore {
  readonly #link: SessionLink;
  readonly #key: string;
  readonly #listeners: Array<() => void> = [];
  #personal: Panel[] | undefined;

  constructor(link: SessionLink, session: string) {
    this.#link = link;
    this.#key = `troupe.layout.${session}`;
    this.#personal = readPersonal(this.#key);
    link.onDoc((sdoc, rebuilt) => {
      sdoc.dashboard.observe(() => {
        if (!this.#personal) this.#changed();
      });
      if (rebuilt && !this.#personal) this.#changed();
    });
  }

  /** True while the page shows "just my view". */
  get personal(): boolean {
    return this.#personal !== undefined;
  }

  /** Whether this page may change the layout it shows. */
  get canEdit(): boolean {
    return this.personal || this.#link.canWrite;
  }

  /** The panels shown. */
  panels(): Panel[] {
    return this.#personal ?? this.#link.sdoc.panels();
  }

  /** Replaces the panels shown (the shared ones, or this browser's). */
  replace(panels: readonly Panel[]): void {
    if (this.#personal) {
      this.#personal = panels.map(checkPanel);
      localStorage.setItem(this.#key, JSON.stringify(this.#personal));
      this.#changed();
    } else this.#link.sdoc.replacePanels(panels);
  }

  /** Shows this browser's own layout (from the shared one as it is), or the shared one again. */
  setPersonal(on: boolean): void {
    if (on === this.personal) return;
    this.#personal = on ? this.#link.sdoc.panels() : undefined;
    if (on) localStorage.setItem(this.#key, JSON.stringify(this.#personal));
    else localStorage.removeItem(this.#key);
    this.#changed();
  }

  /** Calls `fn` whenever the panels shown change. */
  onChange(fn: () => void): void {
    this.#listeners.push(fn);
  }

  #changed(): void {
    for (const fn of this.#listeners) fn();
  }
}

/** This browser's layout of a session, if it keeps one (a damaged copy is dropped). */
function readPersonal(key: string): Panel[] | undefined {
  const raw = localStorage.getItem(key);
  if (raw === null) return undefined;
  try {
    return (JSON.parse(raw) as Panel[]).map(checkPanel);
  } catch {
    localStorage.removeItem(key);
    return undefined;
  }
}
