/** Which Stable Diffusion family a network belongs to, told by the width of the text it attends to. */
const BY_TEXT_WIDTH: Record<number, string> = { 768: 'SD 1.x', 1024: 'SD 2.x', 2048: 'SDXL' };

/** "SD 1.x" (CLIP ViT-L, 768), "SD 2.x" (OpenCLIP ViT-H, 1024), "SDXL" (both, 2048), or "models with text width N". */
export function familyOfTextWidth(width: number): string {
  return BY_TEXT_WIDTH[width] ?? `models with text width ${width}`;
}
