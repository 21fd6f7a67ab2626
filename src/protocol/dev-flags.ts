/**
 * The page flags that turn on the benchmark's and the reliability tests' hooks: `?bench` (with
 * `?threads=N`) and `?testHooks`. A page opened with one names its worker DEV_WORKER_NAME, and
 * both sides then load their dev modules with `import()`; the product's bundles have none of them.
 */
export const DEV_WORKER_NAME = 'inference-dev';

export interface DevFlags {
  bench: boolean;
  testHooks: boolean;
  /** WASM threads for the benchmark's comparison of 1 and 2. */
  threads: number | null;
}

/** The dev flags of a page's query string, or null when it has none. */
export function devFlags(search: string): DevFlags | null {
  const query = new URLSearchParams(search);
  const bench = query.has('bench');
  const testHooks = query.has('testHooks');
  if (!bench && !testHooks) return null;
  const threads = Number(query.get('threads'));
  return { bench, testHooks, threads: Number.isInteger(threads) && threads > 0 ? threads : null };
}
