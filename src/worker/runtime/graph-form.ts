/**
 * How a backend's graphs are built from a checkpoint: the linear form and the onnxruntime contrib
 * kernels, per backend and compute type (which compute type is the loader's choice).
 *
 * Linear: on WASM, MatMul was 2–11 % faster than Gemm in three bench runs (the folded transposed
 * copies fit its heap for any model WASM can hold). On WebGPU, Gemm reads the weights as stored, so
 * nothing is folded into a copy on the CPU on the way to the GPU; step times there were equal within
 * the software rasteriser's ±10 %.
 *
 * Contrib kernels: one is used only where `scripts/bench/kernel-probe.ts` found it equal to the
 * plain graph and faster, at SD 1.5's shapes, on onnxruntime-web 1.30's WebGPU EP (Dawn on lavapipe,
 * 2026-12-06):
 * - BiasSplitGelu (the GEGLU of every transformer block's feed-forward): in float32 equal to the
 *   plain graph (1.1e-7 relative to onnxruntime-node; the reference UNets 3.4e-6 and 4.4e-6 from
 *   diffusers with it) and faster on its own: 255 vs 434 ms at [1, 4096, 2560], 78 vs 100 ms at
 *   [1, 256, 10240]. A whole UNet on lavapipe is no faster within the ±15 % noise there (the tiny
 *   `sd1` UNet at 64×64 latents: 52.5 vs 52.0 s a call; SD 1.5's at 8×8: 26.2 vs 23.0 s), where
 *   attention and the weights' bandwidth dominate. Used in float32 for the one read of the widest
 *   tensor it saves. In float16 its shader does not compile ("Invalid ShaderModule BiasSplitGelu"),
 *   so float16 graphs keep the plain form.
 * - MultiHeadAttention: wrong, in float32 as in float16. Against float32 numbers, 1.3–5.8 % mean
 *   (12–31 % max) off at SD's self- and cross-attention shapes, where the plain float16 graph is
 *   0.24–0.58 % mean and the plain float32 one 1e-6. Not used, though it would avoid the
 *   [heads, N, N] score tensor.
 * - SkipLayerNormalization: equal, and no faster overall (float32: 103 vs 98 ms at [1, 4096, 320],
 *   22 vs 44 ms at [1, 256, 1280]; float16: 134 vs 144 ms and 45 vs 31 ms). Not used.
 * - Graph capture (`enableGraphCapture`, inputs and outputs on the GPU): not used. The tiny `sd1`
 *   UNet in float16 came out 1.39 (max relative) off diffusers with it (8.1e-3 without), SD 1.5's
 *   differed by 3.8e-3 from the same graph uncaptured, and neither was faster.
 * WASM has none of these kernels.
 */
import type { GraphForm, Precision } from '../../core/networks/graph';
import type { Backend } from '../../protocol/messages';

export function graphForm(backend: Backend, precision: Precision): GraphForm {
  return {
    linear: backend === 'wasm' ? 'matmul' : 'gemm',
    precision,
    fused: backend === 'webgpu' && precision === 'float32' ? ['BiasSplitGelu'] : [],
  };
}
