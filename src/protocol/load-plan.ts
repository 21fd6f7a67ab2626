/** What the worker needs to load a model: every file's URL resolved by the page. Types only. */
import type { SchedulerConfigJson } from '../core/schedulers/types';

/** A file the worker fetches: an absolute URL, a name for messages, what to check. */
export interface FileRef {
  url: string;
  path: string;
  size?: number;
  sha256?: string;
  /** Known absent (a picked folder without it): fails as a 404 would, without a request. */
  missing?: boolean;
}

/** What the worker needs to load a model: every URL resolved, whether to keep files in Cache Storage. */
export interface LoadPlan {
  modelId: string;
  name: string;
  cache: boolean;
  textEncoder: FileRef & { externalData?: FileRef[] };
  unet: FileRef & { externalData?: FileRef[] };
  vaeDecoder: FileRef & { externalData?: FileRef[] };
  vaeEncoder?: FileRef & { externalData?: FileRef[] };
  scheduler: FileRef | { config: SchedulerConfigJson };
  tokenizerJson?: FileRef;
  tokenizerConfig: FileRef;
  specialTokensMap: FileRef;
  vaeConfig?: FileRef;
  padToken?: string;
  freeDimensionOverrides?: Record<string, number>;
  dtype: 'fp32' | 'fp16';
  approxBytes?: number;
  /** A download with no data for this long fails as stalled (default 30 s). */
  stallMs?: number;
}
