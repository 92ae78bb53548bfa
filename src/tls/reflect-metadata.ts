// The part of the Reflect metadata API (rbuckton/reflect-metadata) that tsyringe — a dependency of
// @peculiar/x509 — checks for at import time and uses: `getMetadata`, `getOwnMetadata`, `defineMetadata`.
// @peculiar/x509's README asks for a polyfill to be imported first; this one is 30 lines instead of a
// package. It installs itself only where no polyfill exists, and must be imported before @peculiar/x509.

type Target = object;
type MetadataApi = {
  getMetadata?: (key: unknown, target: Target, property?: PropertyKey) => unknown;
  getOwnMetadata?: (key: unknown, target: Target, property?: PropertyKey) => unknown;
  defineMetadata?: (key: unknown, value: unknown, target: Target, property?: PropertyKey) => void;
};

const api = Reflect as typeof Reflect & MetadataApi;
if (typeof api.getMetadata !== "function") {
  const store = new WeakMap<Target, Map<PropertyKey | undefined, Map<unknown, unknown>>>();
  const own = (target: Target, property: PropertyKey | undefined, create: boolean) => {
    let byProperty = store.get(target);
    if (byProperty === undefined) {
      if (!create) return undefined;
      byProperty = new Map();
      store.set(target, byProperty);
    }
    let entries = byProperty.get(property);
    if (entries === undefined && create) {
      entries = new Map();
      byProperty.set(property, entries);
    }
    return entries;
  };
  api.defineMetadata = (key, value, target, property) => {
    own(target, property, true)?.set(key, value);
  };
  api.getOwnMetadata = (key, target, property) => own(target, property, false)?.get(key);
  api.getMetadata = (key, target, property) => {
    for (let t: Target | null = target; t !== null; t = Object.getPrototypeOf(t) as Target | null) {
      const entries = own(t, property, false);
      if (entries?.has(key)) return entries.get(key);
    }
    return undefined;
  };
}
