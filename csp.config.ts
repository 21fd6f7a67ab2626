import { modelHosts } from './src/models/origins.ts';

/**
 * The app's Content-Security-Policy: its own origin, the configured model hub (and the hub's file
 * CDNs), WASM compilation, nothing inline. Served as a <meta> tag in the built page and as a header
 * by `vite preview` (a header also covers the worker, which a meta tag does not).
 */
export function contentSecurityPolicy(hubUrl = 'https://huggingface.co'): string {
  const hubs = modelHosts(hubUrl);
  return [
    "default-src 'self'",
    // onnxruntime-web compiles WebAssembly; no other eval.
    "script-src 'self' 'wasm-unsafe-eval'",
    "worker-src 'self'",
    // blob: is a model folder the person picked, read in place.
    `connect-src 'self' blob: ${hubs.join(' ')}`,
    "img-src 'self' blob: data:",
    "style-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}
