/** A kinds module that cannot be loaded: a step trials thread says why it cannot start. */
export const registry = {};
throw new Error("this kinds module fails to load");
