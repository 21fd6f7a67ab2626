/**
 * The built app (dist/, which the e2e server serves): the page's and the worker's main chunks hold
 * none of the benchmark's or the reliability tests' code; that code is in chunks of its own, which
 * the page and the worker import only with ?bench or ?testHooks.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ASSETS = join(process.cwd(), 'dist', 'assets');
const chunks = readdirSync(ASSETS).filter((f) => f.endsWith('.js'));
const text = (name: string) => readFileSync(join(ASSETS, name), 'utf8');
const only = (prefix: string) => {
  const found = chunks.filter((f) => f.startsWith(prefix));
  expect(found, `one ${prefix} chunk`).toHaveLength(1);
  return found[0]!;
};

/** Strings that only the dev modules hold (page hooks, dev kinds, their rows, the benchmark). */
const DEV_MARKERS = [
  'latentStudioBench', // page hooks (src/dev/page-hooks.ts)
  'latentStudioTestHook',
  'test hook: worker crash', // the worker's fault hooks (src/worker/dev/dev-kinds.ts)
  'graphUrl must be a path on this origin', // the dev rows' parsers (src/protocol/dev-requests.ts)
  'readbacksPerImage', // the benchmark (src/worker/dev/bench.ts)
];

describe("the product's bundle", () => {
  it('has no dev code in the page or the worker main chunk', () => {
    for (const main of [only('index-'), only('inference.worker-')]) {
      const code = text(main);
      expect(
        DEV_MARKERS.filter((m) => code.includes(m)),
        main,
      ).toEqual([]);
    }
  });

  it('has the dev code in chunks of its own, loaded by import()', () => {
    const dev = [only('page-hooks-'), only('dev-kinds-')].map(text).join('\n');
    expect(DEV_MARKERS.filter((m) => !dev.includes(m))).toEqual([]);
    expect(text(only('index-'))).toMatch(/import\([^)]*page-hooks-[\w-]+\.js/);
    expect(text(only('inference.worker-'))).toMatch(/import\([^)]*dev-kinds-[\w-]+\.js/);
  });
});
