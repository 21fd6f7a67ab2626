/** The fastest real model a device can run well, to suggest in the UI (the "faster variant"). */
import type { AdapterInfo } from '../protocol/messages';
import { SD_TURBO } from './catalog';
import type { ModelManifest } from './manifest';

/**
 * SD-Turbo (fp16, 1–4 steps) on a real GPU with shader-f16; nothing on software renderers or
 * without f16, where an fp16 model would be refused or crawl.
 */
export function suggestedModel(adapter: AdapterInfo | null): ModelManifest | null {
  if (!adapter || adapter.software || !adapter.shaderF16) return null;
  return SD_TURBO;
}
