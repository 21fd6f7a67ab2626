/**
 * Textual-inversion embeddings: A1111's safetensors (`emb_params` [n, hidden]), diffusers'
 * `{token: vector}` files ([hidden] or [n, hidden]), and SDXL's (`clip_l` [n, 768] and `clip_g`
 * [n, 1280], one set of rows per text encoder). Their vectors become new rows of each text
 * encoder's token table, after the vocabulary, as diffusers' load_textual_inversion adds them.
 */
import { ModelError } from '../errors';
import { readFloat32, type SafetensorsHeader } from '../formats/safetensors';

export interface Embedding {
  /** [n, hidden], row-major. */
  vectors: Float32Array;
  /** SDXL: the second text encoder's rows (`clip_g`) [n, hidden2]. */
  second?: Float32Array;
  count: number;
}

/**
 * `hidden2`: the second text encoder's width, for SDXL models (absent for SD 1.x/2.x): SDXL takes
 * SDXL embeddings only, SD only SD's.
 */
export function readEmbedding(
  file: string,
  header: SafetensorsHeader,
  bytes: Uint8Array,
  hidden: number,
  hidden2?: number,
): Embedding {
  const names = [...header.tensors.keys()];
  if (names.includes('clip_l') || names.includes('clip_g')) {
    if (hidden2 === undefined) {
      throw new ModelError(
        `${file} is an SDXL embedding (clip_l/clip_g), which does not fit this Stable Diffusion 1.x/2.x model: use it with an SDXL model.`,
      );
    }
    return readSdxlEmbedding(file, header, bytes, hidden, hidden2);
  }
  if (hidden2 !== undefined) {
    throw new ModelError(
      `${file} is an embedding for one text encoder (Stable Diffusion 1.x/2.x); an SDXL model takes SDXL embeddings, with clip_l and clip_g vectors.`,
    );
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

function readSdxlEmbedding(
  file: string,
  header: SafetensorsHeader,
  bytes: Uint8Array,
  hidden: number,
  hidden2: number,
): Embedding {
  const shapeOf = (name: string) => header.tensors.get(name)?.shape;
  const [l, g] = [shapeOf('clip_l'), shapeOf('clip_g')];
  if (!l || !g) throw new ModelError(`${file} has ${l ? 'clip_l' : 'clip_g'} but no ${l ? 'clip_g' : 'clip_l'}.`);
  const rows = (shape: number[]) => (shape.length === 1 ? 1 : shape[0]!);
  const width = (shape: number[]) => shape[shape.length - 1];
  if (width(l) !== hidden || width(g) !== hidden2 || l.length > 2 || g.length > 2 || rows(l) !== rows(g)) {
    throw new ModelError(
      `${file} holds clip_l [${l.join(', ')}] and clip_g [${g.join(', ')}], but this model's text encoders take ${hidden} and ${hidden2}, the same count of each: it is an embedding for another model.`,
    );
  }
  return {
    vectors: readFloat32(header, bytes, 'clip_l'),
    second: readFloat32(header, bytes, 'clip_g'),
    count: rows(l),
  };
}
