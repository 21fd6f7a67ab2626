/**
 * LoRA files the person adds: kept in IndexedDB for the next visit, sent to the worker once per
 * worker, and applied at the strengths in the store (a change of strength rebuilds two networks in
 * the worker, with nothing downloaded).
 */
import { serializeError, ValidationError } from '../core/errors';
import type { LoraTag } from '../core/prompt/lora-tags';
import { parseSafetensors } from '../core/formats/safetensors';
import type { EmbeddingSetting, LoraSetting } from '../protocol/messages';
import { deleteSessionItem, loadSessionItem, saveSessionItem } from '../storage/session-db';
import type { AppStore } from '../store';
import type { InferenceClient } from '../client/inference-client';

export const LORA_MIN = -2;
export const LORA_MAX = 2;

export type LoraActions = ReturnType<typeof createLoraActions>;

export function createLoraActions({ store, client }: { store: AppStore; client: InferenceClient }) {
  /** Names whose file the current worker has; a restarted worker has none. */
  const sent = new Set<string>();

  function forgetSent(): void {
    sent.clear();
  }

  function say(text: string): void {
    store.getState().say(text);
  }

  /** Adds (or replaces) a LoRA from a file, at strength 1. */
  async function addLoraFile(file: File): Promise<boolean> {
    const name = file.name.replace(/\.safetensors$/i, '');
    let bytes: ArrayBuffer;
    try {
      bytes = await file.arrayBuffer();
      const header = parseSafetensors(file.name, new Uint8Array(bytes));
      const names = [...header.tensors.keys()];
      if (!names.some((n) => /lora_(down|up|A|B)\b|\.alpha$|hada_|lokr_/.test(n))) {
        throw new Error(
          `"${file.name}" has no LoRA tensors (lora_down/lora_up or lora_A/lora_B): it is not a LoRA file.`,
        );
      }
      await saveSessionItem(`lora:${name}`, bytes);
    } catch (error) {
      store.getState().loraFailed(serializeError(error).message);
      return false;
    }
    sent.delete(name);
    store.getState().loraAdded(name);
    store.getState().loraFailed(null);
    say(`LoRA "${name}" added at strength 1.`);
    return true;
  }

  function setLoraScale(name: string, scale: number): void {
    const clamped = Math.min(LORA_MAX, Math.max(LORA_MIN, scale));
    store.getState().loraScaled(name, clamped);
  }

  async function removeLora(name: string): Promise<void> {
    store.getState().loraRemoved(name);
    await deleteSessionItem(`lora:${name}`).catch(() => undefined);
  }

  /**
   * The LoRAs a run applies (strength 0 is off; `<lora:name:w>` tags in the prompt set or override a
   * strength), their files sent to the worker first.
   */
  async function lorasForRun(tags: readonly LoraTag[] = []): Promise<LoraSetting[]> {
    const added = store.getState().loras;
    for (const tag of tags) {
      if (!added.some((l) => l.name === tag.name)) {
        throw new ValidationError(
          `The prompt names LoRA "${tag.name}" (<lora:${tag.name}:${tag.scale}>), which is not added: add its file under LoRA.`,
          'prompt',
        );
      }
    }
    const active = added
      .map((l) => ({ ...l, scale: tags.find((t) => t.name === l.name)?.scale ?? l.scale }))
      .filter((l) => l.scale !== 0);
    for (const lora of active) {
      if (sent.has(lora.name)) continue;
      const bytes = await loadSessionItem<ArrayBuffer>(`lora:${lora.name}`);
      if (!bytes) throw new Error(`The file of LoRA "${lora.name}" is no longer stored in this browser: add it again.`);
      await client.request('addLora', { name: lora.name, bytes });
      sent.add(lora.name);
    }
    return active.map(({ name, scale }) => ({ name, scale }));
  }

  /** Adds (or replaces) a textual-inversion embedding; its trigger word is the file's name, as in A1111. */
  async function addEmbeddingFile(file: File): Promise<boolean> {
    const name = file.name.replace(/\.safetensors$/i, '');
    try {
      const bytes = await file.arrayBuffer();
      const names = [...parseSafetensors(file.name, new Uint8Array(bytes)).tensors.keys()];
      // A1111's emb_params, diffusers' one tensor, or SDXL's clip_l and clip_g; the model checks the widths.
      const sdxl = names.includes('clip_l') && names.includes('clip_g');
      if (!sdxl && !names.includes('emb_params') && names.length !== 1) {
        throw new Error(
          `"${file.name}" is not a textual-inversion embedding (no emb_params, no clip_l and clip_g, and ${names.length} tensors).`,
        );
      }
      await saveSessionItem(`embedding:${name}`, bytes);
    } catch (error) {
      store.getState().loraFailed(serializeError(error).message);
      return false;
    }
    sent.delete(`embedding:${name}`);
    store.getState().embeddingAdded(name);
    store.getState().loraFailed(null);
    say(`Embedding "${name}" added: write ${name} in a prompt to use it.`);
    return true;
  }

  function setEmbeddingTrigger(name: string, trigger: string): void {
    store.getState().embeddingTriggerChanged(name, trigger);
  }

  async function removeEmbedding(name: string): Promise<void> {
    store.getState().embeddingRemoved(name);
    await deleteSessionItem(`embedding:${name}`).catch(() => undefined);
  }

  /** The embeddings a run can call (non-empty trigger words), their files sent to the worker first. */
  async function embeddingsForRun(): Promise<EmbeddingSetting[]> {
    const active = store.getState().embeddings.filter((e) => e.trigger.trim());
    for (const e of active) {
      const key = `embedding:${e.name}` as const;
      if (sent.has(key)) continue;
      const bytes = await loadSessionItem<ArrayBuffer>(key);
      if (!bytes)
        throw new Error(`The file of embedding "${e.name}" is no longer stored in this browser: add it again.`);
      await client.request('addLora', { name: key, bytes });
      sent.add(key);
    }
    return active.map((e) => ({ name: `embedding:${e.name}`, trigger: e.trigger.trim() }));
  }

  return {
    forgetSent,
    addLoraFile,
    setLoraScale,
    removeLora,
    lorasForRun,
    addEmbeddingFile,
    setEmbeddingTrigger,
    removeEmbedding,
    embeddingsForRun,
  };
}
