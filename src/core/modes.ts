/**
 * The app's modes, the one place they are named: the four pipelines diffusers has (txt2img,
 * img2img, inpaint, depth2img), and the two views built on txt2img (compare, explore).
 */

/** The pipelines: each is one of diffusers' Stable Diffusion pipelines. */
export const MODES = ['txt2img', 'img2img', 'inpaint', 'depth2img'] as const;
export type Mode = (typeof MODES)[number];

/** The modes that start from a picture. */
export type ImageMode = Exclude<Mode, 'txt2img'>;

/** The app's modes: the four pipelines, plus compare (txt2img over several settings) and explore. */
export const APP_MODES = [...MODES, 'compare', 'explore'] as const;
export type AppMode = (typeof APP_MODES)[number];

export const MODE_LABELS: Record<AppMode, string> = {
  txt2img: 'Text → image',
  img2img: 'Image → image',
  inpaint: 'Inpaint',
  depth2img: 'Depth → image',
  compare: 'Compare',
  explore: 'Explore',
};

/** diffusers' default strengths: img2img 0.8 in the pipeline (the seed notebook uses 0.6), inpaint 1.0, depth 0.8. */
export const DEFAULT_STRENGTH: Record<ImageMode, number> = { img2img: 0.6, inpaint: 1, depth2img: 0.8 };

export function isMode(value: unknown): value is Mode {
  return typeof value === 'string' && (MODES as readonly string[]).includes(value);
}

/** The pipeline a mode runs (compare and explore run txt2img). */
export function pipelineMode(mode: AppMode): Mode {
  return mode === 'compare' || mode === 'explore' ? 'txt2img' : mode;
}

/** The image mode of an app mode, or null for the modes that start from noise. */
export function imageMode(mode: AppMode): ImageMode | null {
  return mode === 'img2img' || mode === 'inpaint' || mode === 'depth2img' ? mode : null;
}
