/** The reference data copied into the repository (see tests/fixtures/README.md). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseSafetensors, readFloat32, type SafetensorsHeader } from '../../src/core/formats/safetensors';

export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/', import.meta.url));
export const NETWORKS_DIR = `${FIXTURES_DIR}networks/`;
export const CONTROLNET_DIR = `${FIXTURES_DIR}controlnet/`;
export const SDXL_DIR = `${FIXTURES_DIR}sdxl/`;
export const SDXL_CASES = ['sdxl', 'sdxl-turbo', 'sdxl-inpaint'] as const;
export const NETWORK_CASES = ['sd1', 'sd1-inpaint', 'sd2-depth', 'lcm'] as const;
export type NetworkCase = (typeof NETWORK_CASES)[number];

export interface TensorFile {
  header: SafetensorsHeader;
  bytes: Uint8Array;
  has(name: string): boolean;
  floats(name: string): Float32Array;
  shape(name: string): number[];
  /** uint8 tensors (images, masks) as bytes. */
  u8(name: string): Uint8Array;
}

export function readTensorFile(path: string): TensorFile {
  const bytes = new Uint8Array(readFileSync(path));
  const header = parseSafetensors(path.split('/').pop()!, bytes);
  const entry = (name: string) => {
    const e = header.tensors.get(name);
    if (!e) throw new Error(`${path} has no ${name}`);
    return e;
  };
  return {
    header,
    bytes,
    has: (name) => header.tensors.has(name),
    floats: (name) => readFloat32(header, bytes, name),
    shape: (name) => entry(name).shape,
    u8: (name) => bytes.slice(entry(name).begin, entry(name).end),
  };
}

export function readFixtureJson<T>(path: string): T {
  return JSON.parse(readFileSync(`${FIXTURES_DIR}${path}`, 'utf8')) as T;
}
