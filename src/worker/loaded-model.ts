/**
 * A model as the worker holds it once loaded: the core's Models over its sessions, its scheduler
 * config, what the page is told about it, and, for checkpoints, how to rebuild it with LoRAs and
 * embeddings. The loader makes one; the handler keeps one at a time.
 */
import type { SafetyChecker } from '../core/safety/checker';
import type { SafetensorsHeader } from '../core/formats/safetensors';
import type { Models } from '../core/pipeline/models';
import type { SchedulerConfigJson } from '../core/schedulers/types';
import type { LoadModelResult } from '../protocol/messages';
import type { ControlNetHost } from './loading/controlnet-loader';

export interface LoadedModel {
  models: Models;
  schedulerConfig: SchedulerConfigJson;
  result: LoadModelResult;
  dispose?(): Promise<void>;
  /** The safety checker every picture goes through before it leaves the worker (see the runners). */
  safety?: SafetyChecker;
  /**
   * The same model with LoRAs merged at their strengths and embeddings' trigger words added
   * (checkpoints only): the text encoder and UNet are rebuilt from bytes the worker kept, so
   * nothing is downloaded or re-parsed.
   */
  withAdditions?(additions: Additions): Promise<Models>;
  /** What a ControlNet loaded beside this model runs on (checkpoints only: ONNX exports take none). */
  controlNetHost?: ControlNetHost;
}

export interface Additions {
  loras: readonly { name: string; file: LoraFile; scale: number }[];
  embeddings: readonly { name: string; file: LoraFile; trigger: string }[];
  /** The UNet takes a ControlNet's residuals (rebuilt so; runs without a ControlNet use the plain one). */
  control: boolean;
}

/** A LoRA (or embedding) file as the worker keeps it. */
export interface LoraFile {
  name: string;
  header: SafetensorsHeader;
  bytes: Uint8Array;
}
