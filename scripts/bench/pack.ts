/**
 * `npm run bench:gpu -- --pack DIR`: the GPU bench as one script plus the two binaries it loads, for
 * a machine with a GPU, a Vulkan (or D3D12/Metal) driver and Node 20+, and nothing else: no clone,
 * no npm. Run it as `node DIR/bench.mjs [--small] [--out FILE]`.
 *   DIR/bench.mjs                                   the bench, the app's core and onnxruntime-web
 *   DIR/ort-wasm-simd-threaded.asyncify.{wasm,mjs}  onnxruntime-web's engine and its loader
 *   DIR/dist/<platform>-<arch>/dawn.node            Dawn for this platform (the `webgpu` package
 *                                                   looks for it there, relative to the script)
 * Dawn's binary is this machine's platform's; pack on the platform that will run it.
 */
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
/**
 * onnxruntime-web's engine and its loader: bundled into bench.mjs, ORT no longer recognises its own
 * script name and loads the loader module from beside the script instead of the copy it embeds.
 */
const ORT_FILES = ['ort-wasm-simd-threaded.asyncify.wasm', 'ort-wasm-simd-threaded.asyncify.mjs'];

export async function packBench(dir: string): Promise<{ files: { path: string; bytes: number }[]; bytes: number }> {
  mkdirSync(dir, { recursive: true });
  // Imported here, not above: the packed bench itself contains this module and must not need esbuild.
  const { build } = await import('esbuild');
  await build({
    entryPoints: [join(dirname(fileURLToPath(import.meta.url)), 'gpu.ts')],
    outfile: join(dir, 'bench.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // The `webgpu` package and esbuild-bundled CommonJS call require(); an ES module has none.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    external: ['esbuild'],
    logLevel: 'warning',
  });
  const ortDist = dirname(require.resolve('onnxruntime-web/webgpu'));
  for (const file of ORT_FILES) copyFileSync(join(ortDist, file), join(dir, file));
  const platform = `${process.platform}-${process.platform === 'darwin' ? 'universal' : process.arch}`;
  const dawn = join(dirname(require.resolve('webgpu')), 'dist', platform, 'dawn.node');
  mkdirSync(join(dir, 'dist', platform), { recursive: true });
  copyFileSync(dawn, join(dir, 'dist', platform, 'dawn.node'));
  const files = ['bench.mjs', ...ORT_FILES, join('dist', platform, 'dawn.node')].map((path) => ({
    path,
    bytes: statSync(join(dir, path)).size,
  }));
  return { files, bytes: files.reduce((a, f) => a + f.bytes, 0) };
}
