// Zod-free and import-free: the read-only verbs call this before deciding what to load.

/** Runloop's benchmark job ids start with `bmj_`; a path (`./bmj_x`) names a local job directory. */
export function isRemoteJobId(ref: string): boolean {
  return ref.startsWith("bmj_") && ref.length > 4 && !ref.includes("/") && !ref.includes("\\");
}
