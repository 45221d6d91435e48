/** Deep freezing for configuration data (plain objects and arrays, no cycles). */

/** T with every property and array, at every depth, read-only: what deepFreeze makes of it. */
export type Frozen<T> = T extends readonly (infer U)[]
  ? readonly Frozen<U>[]
  : T extends object
    ? { readonly [K in keyof T]: Frozen<T[K]> }
    : T;

/** Freezes value and everything reachable from it, in place, and returns it. */
export function deepFreeze<T>(value: T): Frozen<T> {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value as Frozen<T>;
}
