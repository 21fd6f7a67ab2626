/**
 * A1111's prompt syntax for LoRAs: `<lora:name:0.8>` (the strength is optional, 1 by default).
 * The tags set strengths for the run and are taken out of the text the tokenizer sees.
 */
import { ValidationError } from '../errors';

export interface LoraTag {
  name: string;
  scale: number;
}

const TAG = /<lora:([^:<>]+?)(?::([^:<>]*))?>/gi;

export function parseLoraTags(prompt: string): { prompt: string; tags: LoraTag[] } {
  const tags: LoraTag[] = [];
  const text = prompt.replace(TAG, (_all, rawName: string, rawScale: string | undefined) => {
    const name = rawName.trim();
    const scale = rawScale === undefined || rawScale.trim() === '' ? 1 : Number(rawScale);
    if (!Number.isFinite(scale) || scale < -2 || scale > 2) {
      throw new ValidationError(`<lora:${name}:${rawScale}> needs a strength between −2 and 2.`, 'prompt');
    }
    tags.push({ name, scale });
    return '';
  });
  return {
    prompt: text
      .replace(/\s{2,}/g, ' ')
      .replace(/\s+,/g, ',')
      .trim(),
    tags,
  };
}

/** The prompt with a tag for each LoRA the run applied that the text does not already name. */
export function withLoraTags(prompt: string, loras: readonly LoraTag[]): string {
  const named = new Set(parseLoraTags(prompt).tags.map((t) => t.name));
  const extra = loras.filter((l) => !named.has(l.name)).map((l) => `<lora:${l.name}:${l.scale}>`);
  return extra.length === 0 ? prompt : `${prompt} ${extra.join(' ')}`;
}
