/**
 * The one model the worker holds, with its depth estimator and the LoRAs and embeddings merged into
 * it. Loading a model releases the one before (two SD models rarely fit in one GPU); a run that
 * wants other LoRA strengths than the last rebuilds the two networks they touch, and only then.
 */
import { ValidationError } from '../../core/errors';
import type { Models } from '../../core/pipeline/models';
import type { DepthEstimatorSource, Progress } from '../../protocol/messages';
import type { WantedAdditions } from '../../protocol/requests';
import type { Additions, LoadedModel, LoraFile } from '../loaded-model';

/** The additions key of a model as loaded: no LoRA, no embedding. */
const NONE = JSON.stringify([[], [], false]);

export class ModelSlot {
  private loaded: LoadedModel | null = null;
  /** The loaded model's networks as loaded, before any LoRA (the ones to merge into again). */
  private plain: Models | null = null;
  /** The additions the loaded model's networks were last built with (null: unknown, rebuild). */
  private applied: string | null = NONE;
  private readonly files = new Map<string, LoraFile>();
  /** Where the loaded model's depth maps come from when a run gives none. */
  estimator: DepthEstimatorSource | null = null;

  /** `prepare` wraps every set of networks the slot hands out (the turn of the event loop before each call). */
  constructor(private readonly prepare: (models: Models) => Models) {}

  get current(): LoadedModel | null {
    return this.loaded;
  }

  require(): LoadedModel {
    if (!this.loaded) throw new ValidationError('No model is loaded yet.', 'model');
    return this.loaded;
  }

  /** Releases the model held, then holds the one `load` makes. */
  async load(load: () => Promise<LoadedModel>, estimator: DepthEstimatorSource | null): Promise<LoadedModel> {
    const previous = this.loaded;
    this.loaded = null;
    await previous?.dispose?.();
    const model = await load();
    this.loaded = { ...model, models: this.prepare(model.models) };
    this.plain = this.loaded.models;
    this.applied = NONE;
    this.estimator = estimator;
    return this.loaded;
  }

  /** Keeps a LoRA or embedding file; one of the same name replaces it, and what was merged from it is stale. */
  addFile(file: LoraFile): void {
    this.files.set(file.name, file);
    this.applied = null;
  }

  /**
   * The model with the run's LoRAs and embeddings, and a UNet that takes a ControlNet's residuals
   * when `control`, rebuilt only when these changed since the last run.
   */
  async withAdditions(
    wanted: WantedAdditions,
    onProgress: (p: Progress) => void,
    control = false,
  ): Promise<LoadedModel> {
    const loaded = this.require();
    const key = JSON.stringify([wanted.loras, wanted.embeddings, control]);
    if (key === this.applied) return loaded;
    const none = wanted.loras.length === 0 && wanted.embeddings.length === 0 && !control;
    if (control && !loaded.withAdditions) {
      throw new ValidationError(
        'A ControlNet needs a diffusers checkpoint (safetensors) or a single-file one; this model is an ONNX export.',
        'controlnet',
      );
    }
    if (!none && !loaded.withAdditions) {
      throw new ValidationError(
        'LoRAs and embeddings need a diffusers checkpoint (safetensors); this model is an ONNX export.',
        'lora',
      );
    }
    const additions: Additions = {
      loras: wanted.loras.map((l) => ({ name: l.name, file: this.file(l.name, 'LoRA'), scale: l.scale })),
      embeddings: wanted.embeddings.map((e) => ({
        name: e.name,
        file: this.file(e.name, 'embedding'),
        trigger: e.trigger,
      })),
      control,
    };
    onProgress({ kind: 'session', part: control ? 'controlnet' : 'lora' });
    const plain = (this.plain ??= loaded.models);
    let models: Models;
    try {
      models = none ? plain : this.prepare(await loaded.withAdditions!(additions));
    } catch (error) {
      // The previous LoRA sessions may be released already: fall back to the plain model.
      this.loaded = { ...loaded, models: plain };
      this.applied = NONE;
      throw error;
    }
    this.loaded = { ...loaded, models };
    this.applied = key;
    return this.loaded;
  }

  private file(name: string, what: string): LoraFile {
    const file = this.files.get(name);
    if (!file) throw new ValidationError(`The ${what} "${name}" is not loaded: add its file again.`, 'lora');
    return file;
  }
}
