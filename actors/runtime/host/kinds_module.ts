/**
 * The kinds a host runs, as a module its threads load by URL: a worker thread cannot be handed the
 * definitions themselves (they hold functions), so a threaded host is given the URL of a module
 * that exports them, as replay's threads are. The runtime names no kind of its own.
 */
import type { AnyActorDefinition } from "../../../protocol/mod.ts";
import type { HostService, HostServiceParts } from "./launch_host.ts";

/** Actor kinds by name. */
export type KindRegistry = Readonly<Record<string, AnyActorDefinition>>;

/** What a kinds module exports. */
export interface KindsModule {
  /** The kinds, by name (a host runs those its configuration lists). */
  registry: KindRegistry;
  /** The service a host thread runs beside its host when asked (`scans`), if the module has one. */
  hostService?: (parts: HostServiceParts) => Promise<HostService>;
}

/** Loads the kinds module at `url`; an Error naming the module when it exports no `registry`. */
export async function loadKindsModule(url: string | URL): Promise<KindsModule> {
  const href = String(url);
  const mod = await import(href) as Partial<KindsModule>;
  if (typeof mod.registry !== "object" || mod.registry === null) {
    throw new Error(`Module ${href} exports no "registry" of actor kinds`);
  }
  if (mod.hostService !== undefined && typeof mod.hostService !== "function") {
    throw new Error(`Module ${href} exports a "hostService" that is not a function`);
  }
  return mod as KindsModule;
}
