/**
 * The decision of diffusers' `StableDiffusionSafetyChecker.forward`, from a picture's projected CLIP
 * image embedding: its cosine similarity to each special-care and concept embedding minus that
 * embedding's threshold, rounded to 3 decimals; any special-care hit adds 0.01 to the scores after
 * it; the picture is flagged when any concept score is above 0.
 */
import { ModelError } from '../errors';
import { readFloat32, type SafetensorsHeader } from '../formats/safetensors';

/** The checker's embeddings and thresholds (`concept_embeds`, `special_care_embeds` and their `_weights`). */
export interface SafetyConcepts {
  dim: number;
  concepts: Float32Array;
  conceptThresholds: Float32Array;
  special: Float32Array;
  specialThresholds: Float32Array;
}

export interface SafetyVerdict {
  flagged: boolean;
  /** Rounded scores, as diffusers keeps them (above 0: a hit). */
  conceptScores: number[];
  specialScores: number[];
  /** Indices of the concepts and special-care embeddings that were hit. */
  badConcepts: number[];
  specialCare: number[];
}

/** numpy's round(x, 3) on a float32 (diffusers' scores are float32): rint(x·1000)/1000. */
function round3(x: number): number {
  const scaled = Math.fround(Math.fround(x) * 1000);
  const floor = Math.floor(scaled);
  const diff = scaled - floor;
  const rint = diff > 0.5 || (diff === 0.5 && floor % 2 !== 0) ? floor + 1 : floor;
  return Math.fround(rint / 1000);
}

/** Cosine similarity of `a` with each row of `rows` (torch's normalize, then a dot product). */
function cosines(a: Float32Array, rows: Float32Array, dim: number): number[] {
  const norm = (v: Float32Array, at: number) => {
    let s = 0;
    for (let i = 0; i < dim; i++) s += v[at + i]! * v[at + i]!;
    return Math.max(Math.sqrt(s), 1e-12);
  };
  const na = norm(a, 0);
  const out: number[] = [];
  for (let r = 0; r * dim < rows.length; r++) {
    const nr = norm(rows, r * dim);
    let dot = 0;
    for (let i = 0; i < dim; i++) dot += (a[i]! / na) * (rows[r * dim + i]! / nr);
    out.push(Math.fround(dot));
  }
  return out;
}

export function safetyVerdict(imageEmbeds: Float32Array, c: SafetyConcepts): SafetyVerdict {
  let adjustment = 0;
  const specialScores: number[] = [];
  const specialCare: number[] = [];
  cosines(imageEmbeds, c.special, c.dim).forEach((cos, i) => {
    const score = round3(cos - c.specialThresholds[i]! + adjustment);
    specialScores.push(score);
    if (score > 0) {
      specialCare.push(i);
      adjustment = 0.01;
    }
  });
  const conceptScores: number[] = [];
  const badConcepts: number[] = [];
  cosines(imageEmbeds, c.concepts, c.dim).forEach((cos, i) => {
    const score = round3(cos - c.conceptThresholds[i]! + adjustment);
    conceptScores.push(score);
    if (score > 0) badConcepts.push(i);
  });
  return { flagged: badConcepts.length > 0, conceptScores, specialScores, badConcepts, specialCare };
}

/** The checker's concept and special-care embeddings and thresholds, read from its safetensors file. */
export function readSafetyConcepts(header: SafetensorsHeader, bytes: Uint8Array): SafetyConcepts {
  const read = (name: string) => readFloat32(header, bytes, name);
  const concepts = read('concept_embeds');
  const conceptThresholds = read('concept_embeds_weights');
  const special = read('special_care_embeds');
  const specialThresholds = read('special_care_embeds_weights');
  const dim = concepts.length / conceptThresholds.length;
  if (!Number.isInteger(dim) || special.length !== dim * specialThresholds.length) {
    throw new ModelError(
      `${header.file}: the concept embeddings (${concepts.length} values for ${conceptThresholds.length} thresholds) and special-care embeddings do not agree in width.`,
    );
  }
  return { dim, concepts, conceptThresholds, special, specialThresholds };
}
