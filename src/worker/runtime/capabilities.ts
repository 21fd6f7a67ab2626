/** What this browser's GPU offers, asked once per worker. */
import type { AdapterInfo, Capabilities } from '../../protocol/messages';

let adapterPromise: Promise<GPUAdapter | null> | null = null;

export function requestAdapter(): Promise<GPUAdapter | null> {
  if (!('gpu' in navigator) || !navigator.gpu) return Promise.resolve(null);
  adapterPromise ??= navigator.gpu.requestAdapter().catch(() => null);
  return adapterPromise;
}

export function describeAdapter(adapter: GPUAdapter): AdapterInfo {
  const info = adapter.info;
  const software =
    (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter === true ||
    /swiftshader|llvmpipe|software/i.test(`${info.vendor} ${info.architecture} ${info.description}`);
  return {
    software,
    vendor: info.vendor || 'unknown',
    architecture: info.architecture || 'unknown',
    description: info.description || '',
    shaderF16: adapter.features.has('shader-f16'),
    maxBufferSize: adapter.limits.maxBufferSize,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
  };
}

export async function detectCapabilities(): Promise<Capabilities> {
  const isolated = globalThis.crossOriginIsolated === true;
  const wasmThreads = isolated ? Math.min(navigator.hardwareConcurrency || 1, 4) : 1;
  if (!('gpu' in navigator) || !navigator.gpu) {
    return {
      webgpu: false,
      webgpuUnavailableReason: 'This browser does not expose WebGPU (navigator.gpu is missing).',
      adapter: null,
      crossOriginIsolated: isolated,
      wasmThreads,
    };
  }
  const adapter = await requestAdapter();
  if (!adapter) {
    return {
      webgpu: false,
      webgpuUnavailableReason: 'WebGPU is present but no GPU adapter was granted.',
      adapter: null,
      crossOriginIsolated: isolated,
      wasmThreads,
    };
  }
  return {
    webgpu: true,
    webgpuUnavailableReason: null,
    adapter: describeAdapter(adapter),
    crossOriginIsolated: isolated,
    wasmThreads,
  };
}
