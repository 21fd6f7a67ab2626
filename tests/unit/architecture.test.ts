/**
 * The architecture as the folders show it, checked on the source: no import cycles anywhere in
 * src/ (type-only imports included), and no import that runs against the data's way (see the
 * README's picture): the core and the protocol depend on nothing above them, the worker on nothing
 * of the page, and app/, store/ and canvas/ on no view.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve('src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Every relative module a file imports: static, type-only, re-exported or dynamic. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [
    ...text.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s+['"](\.[^'"]+)['"]/gms),
    ...text.matchAll(/^\s*import\s+['"](\.[^'"]+)['"]/gm),
    ...text.matchAll(/\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/g),
  ].map((m) => m[1]!);
  return specifiers.flatMap((spec) => {
    const base = resolve(dirname(file), spec);
    const found = ['', '.ts', '.tsx', '/index.ts']
      .map((ext) => base + ext)
      .find((p) => {
        try {
          return statSync(p).isFile();
        } catch {
          return false;
        }
      });
    return found && !/\.(css|wasm|json)(\?.*)?$/.test(found) ? [found] : [];
  });
}

const files = sourceFiles(SRC);
const graph = new Map(files.map((f) => [f, importsOf(f)]));
const rel = (f: string) => relative(SRC, f);
/** The top folder of a module (`core`, `worker`, …), or its own name at src/'s root. */
const room = (f: string) =>
  rel(f)
    .split('/')[0]!
    .replace(/\.tsx?$/, '');

/** Strongly connected components of more than one module, or a module importing itself (Tarjan). */
function cycles(): string[][] {
  let index = 0;
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    order.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!order.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, order.get(w)!));
    }
    if (low.get(v) === order.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(rel(w));
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const f of files) if (!order.has(f)) visit(f);
  return found;
}

/** What each room may import besides itself; a room not listed here may import anything. */
const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  protocol: ['core'],
  storage: ['core', 'protocol'],
  models: ['core', 'protocol'],
  canvas: ['core'],
  client: ['core', 'protocol'],
  worker: ['core', 'protocol', 'models', 'storage'],
  store: ['core', 'protocol', 'models', 'storage', 'canvas'],
  app: ['core', 'protocol', 'models', 'storage', 'canvas', 'client', 'store'],
  dev: ['core', 'protocol', 'canvas', 'client', 'app'],
  components: ['core', 'protocol', 'models', 'storage', 'canvas', 'client', 'store', 'app'],
};

describe('architecture', () => {
  it('reads the imports of every module in src/', () => {
    expect(files.length).toBeGreaterThan(150);
    // The check would pass on nothing: the worker's entry reaches the handler, the page the actions.
    expect(graph.get(join(SRC, 'worker/inference.worker.ts'))).toContain(join(SRC, 'worker/handler/handler.ts'));
    expect(graph.get(join(SRC, 'main.tsx'))).toContain(join(SRC, 'app/actions.ts'));
  });

  it('has no import cycles', () => {
    expect(cycles()).toEqual([]);
  });

  it('imports only along the data’s way', () => {
    const against = files.flatMap((f) => {
      const allowed = ALLOWED[room(f)];
      if (!allowed) return [];
      return (graph.get(f) ?? [])
        .filter((to) => room(to) !== room(f) && !allowed.includes(room(to)))
        .map((to) => `${rel(f)} → ${rel(to)}`);
    });
    expect(against).toEqual([]);
  });
});
