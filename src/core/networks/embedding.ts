/**
 * Textual-inversion embeddings: A1111's safetensors (`emb_params` [n, hidden]) and diffusers'
 * `{token: vector}` files ([hidden] or [n, hidden]). Their vectors become new rows of the text
 * encoder's token table, after the vocabulary, as diffusers' load_textual_inversion adds them.
 */
import { ModelError } from '../errors';
import { readFloat32, type SafetensorsHeader } from '../formats/safetensors';

export interface Embedding {
  /** [n, hidden], row-major. */
  vectors: Float32Array;
  count: number;
}

export function readEmbedding(file: string, header: SafetensorsHeader, bytes: Uint8Array, hidden: number): Embedding {
  const names = [...header.tensors.keys()];
  if (names.includes('clip_l') || names.includes('clip_g')) {
    throw new ModelError(`${file} is an SDXL embedding (clip_l/clip_g): this app runs Stable Diffusion 1.x and 2.x.`);
  }
  const name = names.includes('emb_params') ? 'emb_params' : names.length === 1 ? names[0]! : null;
  if (!name) {
    throw new ModelError(
      `${file} is not a textual-inversion embedding: it has ${names.length} tensors and no emb_params.`,
    );
  }
  const shape = header.tensors.get(name)!.shape;
  const width = shape[shape.length - 1];
  if (width !== hidden || shape.length > 2) {
    throw new ModelError(
      `${file} holds vectors of shape [${shape.join(', ')}], but this model's text encoder takes ${hidden}: it is an embedding for another model.`,
    );
  }
  const vectors = readFloat32(header, bytes, name);
  return { vectors, count: vectors.length / hidden };
}
