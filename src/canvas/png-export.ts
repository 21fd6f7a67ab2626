/** Pixels → PNG file with the generation parameters in a `parameters` text chunk. */
import { formatParameters } from '../core/formats/parameters-text';
import type { GenerationSettings } from '../core/generation-settings';
import { addPngText } from '../core/formats/png-text';

export async function pngWithParameters(image: ImageData, params: GenerationSettings | null): Promise<Blob> {
  const canvas = new OffscreenCanvas(image.width, image.height);
  canvas.getContext('2d')!.putImageData(image, 0, 0);
  const plain = await canvas.convertToBlob({ type: 'image/png' });
  if (!params) return plain;
  const bytes = addPngText(new Uint8Array(await plain.arrayBuffer()), 'parameters', formatParameters(params));
  return new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'image/png' });
}

export function downloadBlob(blob: Blob, name: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

/** A file name from the prompt and seed, safe on every OS. */
export function fileName(params: Pick<GenerationSettings, 'prompt' | 'seed'>, suffix = ''): string {
  const words =
    params.prompt
      .replace(/[^\p{L}\p{N}]+/gu, '_')
      .replace(/^_+|_+$/g, '')
      .slice(0, 48) || 'image';
  return `${words}_${params.seed}${suffix}.png`;
}
