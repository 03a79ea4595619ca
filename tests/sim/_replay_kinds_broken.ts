/** A registry module that cannot be loaded: replay worker threads must report it, not hang. */
export const registry = {};
throw new Error("this registry module fails to load");
