import react from '@vitejs/plugin-react';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';
import { contentSecurityPolicy } from './csp.config.ts';
import { SITE_POLICY_META } from './src/models/safety-checker.ts';

/** Cross-origin isolation lets onnxruntime-web's WASM backend use threads (SharedArrayBuffer). */
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/** The CSP goes into the built page only: the dev server's hot reload needs inline scripts. */
function cspMeta(policy: string): Plugin {
  return {
    name: 'latent-studio-csp',
    apply: 'build',
    transformIndexHtml: () => [
      { tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: policy }, injectTo: 'head-prepend' },
    ],
  };
}

/**
 * A site that hosts the app for others can require the safety checker: build with
 * LATENT_STUDIO_REQUIRE_SAFETY_CHECKER=true (or set this meta tag's content to "true" in the built
 * index.html). The page reads the tag; the worker then runs the checker on every picture.
 */
function sitePolicyMeta(): Plugin {
  const required = /^(1|true|yes)$/i.test(process.env['LATENT_STUDIO_REQUIRE_SAFETY_CHECKER'] ?? '');
  return {
    name: 'latent-studio-site-policy',
    transformIndexHtml: () => [
      {
        tag: 'meta',
        attrs: { name: SITE_POLICY_META, content: String(required) },
        injectTo: 'head',
      },
    ],
  };
}

const policy = contentSecurityPolicy();

export default defineConfig({
  plugins: [react(), cspMeta(policy), sitePolicyMeta()],
  server: { host: '127.0.0.1', port: 5173, strictPort: true, headers: isolation },
  preview: {
    host: '127.0.0.1',
    port: 4173,
    strictPort: true,
    headers: { ...isolation, 'Content-Security-Policy': policy },
  },
  worker: { format: 'es' },
  // The worker's dependencies are only found when it runs (the WASM build is even imported on
  // demand), and the dev server then re-bundles them and reloads the page, losing the first
  // Generate of a fresh clone. Bundling them at start-up avoids that.
  optimizeDeps: { include: ['onnxruntime-web/webgpu', 'onnxruntime-web/wasm', '@huggingface/transformers'] },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['tests/helpers/setup-models.ts'],
        },
      },
      {
        // The fp16 test bed: WebGPU with shader-f16 in Node (Dawn + Mesa's lavapipe). Sessions take
        // tens of seconds to create there, so the cases are few and the timeouts long.
        extends: true,
        test: {
          name: 'gpu',
          include: ['tests/gpu/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['tests/helpers/setup-models.ts'],
          testTimeout: 300_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['tests/e2e/helpers/setup-server.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
