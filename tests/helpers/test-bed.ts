/**
 * The fp16 test bed: onnxruntime-web's WebGPU EP in Node on Dawn with Mesa's lavapipe, a WebGPU
 * adapter with shader-f16 on a machine without a GPU (see the README's "Testing fp16"). Session
 * creation is slow there (shaders compiled by LLVM, ~40 s for a tiny UNet), runs are fast.
 */
import { openNodeGpu, type NodeGpu } from '../../scripts/node-gpu/runtime';
import { LAVAPIPE_ICD } from '../../scripts/node-gpu/dawn';

let bed: Promise<NodeGpu> | null = null;

/** The test bed's GPU and ORT, opened once per test file. */
export function testBed(): Promise<NodeGpu> {
  bed ??= openNodeGpu({ icd: LAVAPIPE_ICD });
  return bed;
}
