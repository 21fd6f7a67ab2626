import { CONNECT_SOURCES } from './src/models/origins.ts';

/**
 * The app's Content-Security-Policy: scripts and styles of its own origin only, WASM compilation,
 * nothing inline; connections to the model origins a person may choose (see src/models/origins.ts:
 * each model's own hosts are then enforced by the worker). Served as a <meta> tag in the built page
 * and as a header by `vite preview` (a header also covers the worker, which a meta tag does not).
 */
export function contentSecurityPolicy(): string {
  return [
    "default-src 'self'",
    // onnxruntime-web compiles WebAssembly; no other eval.
    "script-src 'self' 'wasm-unsafe-eval'",
    "worker-src 'self'",
    // blob: is a model folder the person picked, read in place.
    `connect-src 'self' blob: ${CONNECT_SOURCES.join(' ')}`,
    "img-src 'self' blob: data:",
    "style-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}
