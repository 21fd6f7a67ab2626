/** A single-file checkpoint's safetensors header, read from the first bytes of a file of any size. */
import { ModelError } from '../errors';
import { parseSafetensors, safetensorsHeaderLength, type SafetensorsHeader } from '../formats/safetensors';

/** A header read from the file's first bytes; a file that is not safetensors says what it is. */
export async function readSingleFileHeader(file: Blob, name: string): Promise<SafetensorsHeader> {
  const first = new Uint8Array(await file.slice(0, 8).arrayBuffer());
  refusePickle(first, name);
  const length = safetensorsHeaderLength(name, first, file.size);
  return parseSafetensors(name, new Uint8Array(await file.slice(0, length).arrayBuffer()), file.size);
}

/**
 * `.ckpt` and `.pt` files are Python pickles (a zip archive since torch 1.6): loading one runs
 * whatever code it holds, which is why safetensors exists. Recognised by their first bytes.
 */
function refusePickle(first: Uint8Array, name: string): void {
  const zip = first[0] === 0x50 && first[1] === 0x4b && first[2] === 0x03 && first[3] === 0x04;
  const pickle = first[0] === 0x80 && (first[1] ?? 0) >= 2 && (first[1] ?? 0) <= 5;
  if (zip || pickle) {
    throw new ModelError(
      `${name} is a PyTorch pickle (.ckpt/.pt), not safetensors. Pickles can run code when opened, so this app does not read them: convert it to .safetensors (for example with diffusers' or A1111's converters) and pick that file.`,
    );
  }
}
