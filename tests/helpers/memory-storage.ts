/** localStorage for a store in Node: what persist writes, readable by the test. */
import type { StateStorage } from 'zustand/middleware';

export function memoryStorage(): StateStorage & { saved: Map<string, string> } {
  const saved = new Map<string, string>();
  return {
    saved,
    getItem: (k) => saved.get(k) ?? null,
    setItem: (k, v) => void saved.set(k, v),
    removeItem: (k) => void saved.delete(k),
  };
}
