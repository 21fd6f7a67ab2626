/** Models the person adds (repo id, URL) and the cache manager's actions. */
import { ModelError, serializeError } from '../core/errors';
import { unreachableMessage } from '../models/reach';
import { DEFAULT_MODEL, findModel } from '../models/catalog';
import { connectRefusal } from '../models/origins';
import type { ModelManifest, ModelSource } from '../models/manifest';
import { LAYOUT_PROBES, manifestFromModelIndex } from '../models/model-index';
import { parseModelInput } from '../models/model-input';
import { fileUrl } from '../models/urls';
import { manifestFromSingleFile } from '../models/single-file';
import { fetchListing } from '../models/hub-listing';
import { readSingleFileHeader } from '../core/single-file/header';
import type { LoraActions } from './lora-actions';
import type { PageContext } from './worker-session';
import { clearAll, deleteModel, listRecords, storageEstimate } from '../storage/model-cache';
import type { AppStore } from '../store';
import type { ModelInput } from '../store/model';

export type ModelActions = ReturnType<typeof createModelActions>;

export function createModelActions({ store, page, loras }: { store: AppStore; page: PageContext; loras: LoraActions }) {
  async function refreshModelCache(): Promise<void> {
    try {
      const [records, storage] = await Promise.all([listRecords(), storageEstimate()]);
      store.getState().cacheListed(records, storage);
    } catch {
      // Cache Storage unavailable (private mode in some browsers): the manager shows nothing.
    }
  }

  async function deleteCachedModel(modelId: string): Promise<void> {
    await deleteModel(modelId);
    await refreshModelCache();
  }

  async function clearModelCache(): Promise<void> {
    await clearAll();
    await refreshModelCache();
  }

  /** The model being added, if any: a run waits for it, so it runs on the model the person chose. */
  let adding: Promise<boolean> | null = null;

  /** Resolves when no model is being added (at once when none is). */
  function pendingAdd(): Promise<void> {
    return adding ? adding.then(() => undefined) : Promise.resolve();
  }

  /**
   * Finds a model's manifest one way or another, then lists and selects it, or says what went wrong.
   * While it looks (a model_index.json, a listing, a file's header), Generate waits: pressed at once
   * after Load, it used to run the previous model.
   */
  function addModel(find: () => Promise<ModelManifest | string>, from: ModelInput = 'repo'): Promise<boolean> {
    const added = findAndSelect(find, from).finally(() => {
      if (adding === added) {
        adding = null;
        store.getState().modelAdding(false);
      }
    });
    adding = added;
    store.getState().modelAdding(true);
    return added;
  }

  async function findAndSelect(find: () => Promise<ModelManifest | string>, from: ModelInput): Promise<boolean> {
    store.getState().customModelFailed(null);
    try {
      // A string is the id of a model the catalog already has.
      const found = await find();
      const id = typeof found === 'string' ? found : found.id;
      if (typeof found !== 'string') {
        store.getState().customModelAdded(found);
      }
      store.getState().setSetting('modelId', id);
      return true;
    } catch (error) {
      store.getState().customModelFailed({ message: serializeError(error).message, from });
      return false;
    }
  }

  /**
   * Adds a diffusers ONNX repo (hub id or URL) to the catalog from its own model_index.json and
   * selects it. Nothing big is downloaded until Generate.
   */
  function addCustomModel(text: string): Promise<boolean> {
    return addModel(async () => {
      const source = parseModelInput(text);
      const id = source.kind === 'hub' ? `hub:${source.repo}@${source.revision}` : `url:${source.baseUrl}`;
      if (findModel(id, store.getState().customModels)) return id;
      const url = fileUrl(source, page.hub(), 'model_index.json');
      // The page's policy, said in words before the browser refuses it with "Failed to fetch".
      const refusal = connectRefusal(url, page.origin);
      if (refusal) throw new Error(refusal);
      let response: Response;
      // Only the hub's redirects (to its CDNs) are followed: a folder URL that redirects is named.
      const noRedirect: RequestInit = source.kind === 'hub' ? {} : { redirect: 'manual' };
      try {
        response = await fetch(url, noRedirect);
      } catch (error) {
        throw new ModelError(unreachableMessage(url), `model_index.json: ${serializeError(error).message}`);
      }
      if (response.type === 'opaqueredirect') {
        throw new ModelError(
          `${url} answered with a redirect, which this app does not follow for hosts other than the hub. Give the folder's final address.`,
        );
      }
      if (response.status === 404 || response.status === 401) {
        throw new Error(
          `No model_index.json at ${url} (${response.status}): is it a public diffusers ONNX repo, and is the id spelled right?`,
        );
      }
      if (!response.ok) throw new Error(`The server answered ${response.status} for model_index.json.`);
      let index: Record<string, unknown>;
      try {
        index = (await response.json()) as Record<string, unknown>;
      } catch {
        throw new Error('model_index.json is not valid JSON.');
      }
      if (source.kind !== 'hub') return manifestFromModelIndex(id, source, index, undefined, await probeLayout(source));
      const listing = await fetchListing(page.hub(), source.repo, source.revision);
      return manifestFromModelIndex(id, { ...source, hub: page.hub() }, index, listing ?? undefined);
    });
  }

  /**
   * Which of the layout files a folder URL has (HEAD requests: nothing is downloaded), so an ONNX
   * export is known by its folders whatever its model_index.json says.
   */
  async function probeLayout(source: ModelSource): Promise<Set<string>> {
    const found = new Set<string>();
    await Promise.all(
      LAYOUT_PROBES.map(async (path) => {
        const response = await fetch(fileUrl(source, page.hub(), path), { method: 'HEAD', redirect: 'manual' }).catch(
          () => null,
        );
        if (response?.ok) found.add(path);
      }),
    );
    return found;
  }

  function removeCustomModel(id: string): void {
    store.getState().customModelRemoved(id, DEFAULT_MODEL.id);
  }

  /** A diffusers ONNX folder picked from disk: its files are read in place through blob: URLs. */
  function addLocalFolder(files: FileList | File[]): Promise<boolean> {
    return addModel(async () => {
      const list = Array.from(files);
      const index = list.find((f) => /(^|\/)model_index\.json$/.test(f.webkitRelativePath || f.name));
      if (!index) throw new Error('That folder has no model_index.json: pick the folder of a diffusers ONNX export.');
      const full = index.webkitRelativePath || index.name;
      const root = full.slice(0, full.length - 'model_index.json'.length);
      const name = root.replace(/\/$/, '').split('/').pop() || 'local model';
      const urls: Record<string, string> = {};
      for (const f of list) {
        const path = (f.webkitRelativePath || f.name).slice(root.length);
        if (path) urls[path] = URL.createObjectURL(f);
      }
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(await index.text()) as Record<string, unknown>;
      } catch (error) {
        throw new Error('model_index.json is not valid JSON.', { cause: error });
      }
      return manifestFromModelIndex(
        `local:${name}`,
        { kind: 'local', name, urls },
        parsed,
        undefined,
        new Set(Object.keys(urls)),
      );
    });
  }

  /**
   * An original single-file checkpoint picked or dropped: its header is read here (a few hundred KB
   * of a file of gigabytes) to say what it is before anything else, then it is listed and selected,
   * read with the panel's choice of prediction type and configs.
   */
  function addCheckpointFile(file: File): Promise<boolean> {
    return addModel(async () => {
      const { customModels, checkpointChoice } = store.getState();
      const configsFrom = checkpointChoice.configsFrom
        ? (findModel(checkpointChoice.configsFrom, customModels) ?? null)
        : null;
      const header = await readSingleFileHeader(file, file.name);
      return manifestFromSingleFile(file, file.name, String(file.lastModified), header, {
        prediction: checkpointChoice.prediction,
        configsFrom,
      });
    }, 'file');
  }

  /** The tensors of an original checkpoint (or an SDXL one, refused by name), as opposed to a LoRA's. */
  const CHECKPOINT_KEYS = /^(model\.diffusion_model|first_stage_model|cond_stage_model|conditioner)\./;

  /**
   * A file dropped on the page: a checkpoint (by its tensors, or a pickle by its name) is added as a
   * model, anything else that is safetensors goes to the LoRA panel. Only the header is read to
   * decide, so a 4 GB checkpoint is never read whole by mistake. What happened is said in the notice.
   */
  async function openDroppedModelFile(file: File): Promise<void> {
    let checkpoint = /\.(ckpt|pt|pth|bin)$/i.test(file.name);
    if (!checkpoint) {
      try {
        const header = await readSingleFileHeader(file, file.name);
        checkpoint = [...header.tensors.keys()].some((k) => CHECKPOINT_KEYS.test(k));
      } catch (error) {
        store.getState().say(serializeError(error).message);
        return;
      }
    }
    if (!checkpoint) {
      await loras.addLoraFile(file);
      return;
    }
    const added = await addCheckpointFile(file);
    const { customModelError, modelId, customModels } = store.getState();
    store
      .getState()
      .say(
        added
          ? `Added and selected ${findModel(modelId, customModels)?.name ?? file.name}.`
          : (customModelError?.message ?? null),
      );
  }

  return {
    refreshModelCache,
    deleteCachedModel,
    clearModelCache,
    addCustomModel,
    removeCustomModel,
    addLocalFolder,
    addCheckpointFile,
    openDroppedModelFile,
    pendingAdd,
  };
}
