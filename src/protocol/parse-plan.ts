/**
 * A LoadPlan as it arrives in the worker, checked field by field: the worker fetches every URL in
 * it, so nothing the page did not mean to send may pass as a plan.
 */
import { ValidationError } from '../core/errors';
import { isRecord, type JsonObject } from '../core/json';
import type {
  CheckpointPartRef,
  ControlNetPlan,
  FileRef,
  LoadPlan,
  OnnxFileRef,
  PlanComponents,
  SafetyCheckerPlan,
  VaePlan,
} from './load-plan';

type Raw = JsonObject;

const bad = (what: string): ValidationError => new ValidationError(`The model plan is damaged: ${what}.`, 'model');

const INCOMPLETE = 'The model has no complete file list (text encoder, UNet, VAE, scheduler).';

function optionalNumber(raw: Raw, key: string, where: string): number | undefined {
  const value = raw[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw bad(`${where}.${key} is not a size`);
  return value;
}

function fileRef(value: unknown, where: string): FileRef {
  if (!isRecord(value) || typeof value['url'] !== 'string' || typeof value['path'] !== 'string') {
    throw new ValidationError(INCOMPLETE, 'model');
  }
  const ref: FileRef = { url: value['url'], path: value['path'] };
  const size = optionalNumber(value, 'size', where);
  if (size !== undefined) ref.size = size;
  const sha = value['sha256'];
  if (sha !== undefined) {
    if (typeof sha !== 'string' || !/^[0-9a-f]{64}$/i.test(sha)) throw bad(`${where}.sha256 is not a SHA-256`);
    ref.sha256 = sha;
  }
  const convert = value['convert'];
  if (convert !== undefined) {
    if (convert !== 'fp16') throw bad(`${where}.convert is not "fp16"`);
    ref.convert = convert;
  }
  const missing = value['missing'];
  if (missing !== undefined) {
    if (typeof missing !== 'boolean') throw bad(`${where}.missing is not true or false`);
    ref.missing = missing;
  }
  return ref;
}

function onnxRef(value: unknown, where: string): OnnxFileRef {
  const ref: OnnxFileRef = fileRef(value, where);
  const siblings = isRecord(value) ? value['siblings'] : undefined;
  if (siblings !== undefined) {
    if (!isRecord(siblings) || !Object.values(siblings).every((u) => typeof u === 'string')) {
      throw bad(`${where}.siblings does not map names to URLs`);
    }
    ref.siblings = Object.fromEntries(Object.entries(siblings).map(([k, u]) => [k, String(u)]));
  }
  const external = isRecord(value) ? value['externalData'] : undefined;
  if (external !== undefined) {
    if (!Array.isArray(external)) throw bad(`${where}.externalData is not a list`);
    ref.externalData = external.map((e, i) => fileRef(e, `${where}.externalData[${i}]`));
  }
  return ref;
}

function part(value: unknown, where: string): CheckpointPartRef {
  if (!isRecord(value) || !Array.isArray(value['weights'])) throw new ValidationError(INCOMPLETE, 'model');
  const shards = value['shards'];
  if (shards !== undefined && !Array.isArray(shards)) throw bad(`${where}.shards is not a list`);
  return {
    config: fileRef(value['config'], `${where}.config`),
    weights: value['weights'].map((w, i) => fileRef(w, `${where}.weights[${i}]`)),
    ...(shards ? { shards: shards.map((s: unknown, i) => fileRef(s, `${where}.shards[${i}]`)) } : {}),
  };
}

function components(value: unknown): PlanComponents {
  if (!isRecord(value)) throw new ValidationError(INCOMPLETE, 'model');
  if (value['format'] === 'onnx') {
    const onnx: PlanComponents = {
      format: 'onnx',
      textEncoder: onnxRef(value['textEncoder'], 'textEncoder'),
      unet: onnxRef(value['unet'], 'unet'),
      vaeDecoder: onnxRef(value['vaeDecoder'], 'vaeDecoder'),
    };
    if (value['vaeEncoder'] !== undefined) onnx.vaeEncoder = onnxRef(value['vaeEncoder'], 'vaeEncoder');
    return onnx;
  }
  if (value['format'] === 'safetensors') {
    return {
      format: 'safetensors',
      textEncoder: part(value['textEncoder'], 'textEncoder'),
      ...(value['textEncoder2'] !== undefined ? { textEncoder2: part(value['textEncoder2'], 'textEncoder2') } : {}),
      unet: part(value['unet'], 'unet'),
      vae: part(value['vae'], 'vae'),
    };
  }
  if (value['format'] === 'single-file') {
    const { file, fileName, configs } = value;
    if (!(file instanceof Blob) || typeof fileName !== 'string') throw bad('the checkpoint file is missing');
    if (configs !== null && !isRecord(configs)) throw bad('configs is neither a list of files nor null');
    return {
      format: 'single-file',
      file,
      fileName,
      configs: configs
        ? {
            textEncoder: fileRef(configs['textEncoder'], 'configs.textEncoder'),
            ...(configs['textEncoder2'] !== undefined
              ? { textEncoder2: fileRef(configs['textEncoder2'], 'configs.textEncoder2') }
              : {}),
            unet: fileRef(configs['unet'], 'configs.unet'),
            vae: fileRef(configs['vae'], 'configs.vae'),
          }
        : null,
    };
  }
  throw new ValidationError(INCOMPLETE, 'model');
}

function scheduler(value: unknown): LoadPlan['scheduler'] {
  if (isRecord(value) && isRecord(value['config'])) return { config: value['config'] };
  return fileRef(value, 'scheduler');
}

export function parseLoadPlan(value: unknown): LoadPlan {
  if (!isRecord(value) || value['scheduler'] === undefined) throw new ValidationError(INCOMPLETE, 'model');
  const { modelId, name, cache, dtype } = value;
  const plan: LoadPlan = {
    modelId: typeof modelId === 'string' ? modelId : '',
    name: typeof name === 'string' ? name : '',
    cache: cache === true,
    components: components(value['components']),
    scheduler: scheduler(value['scheduler']),
    tokenizerConfig: fileRef(value['tokenizerConfig'], 'tokenizerConfig'),
    specialTokensMap: fileRef(value['specialTokensMap'], 'specialTokensMap'),
    dtype: dtype === 'fp16' ? 'fp16' : 'fp32',
  };
  if (value['tokenizerJson'] !== undefined) plan.tokenizerJson = fileRef(value['tokenizerJson'], 'tokenizerJson');
  if (value['vaeConfig'] !== undefined) plan.vaeConfig = fileRef(value['vaeConfig'], 'vaeConfig');
  const second = value['secondTokenizer'];
  if (second !== undefined) {
    if (!isRecord(second)) throw bad('secondTokenizer is not a tokenizer’s files');
    const secondPad = second['padToken'];
    if (secondPad !== undefined && typeof secondPad !== 'string') throw bad('secondTokenizer.padToken is not text');
    plan.secondTokenizer = {
      tokenizerConfig: fileRef(second['tokenizerConfig'], 'secondTokenizer.tokenizerConfig'),
      specialTokensMap: fileRef(second['specialTokensMap'], 'secondTokenizer.specialTokensMap'),
      ...(secondPad !== undefined ? { padToken: secondPad } : {}),
    };
  }
  const zeros = value['zerosForEmptyNegative'];
  if (zeros !== undefined) {
    if (typeof zeros !== 'boolean') throw bad('zerosForEmptyNegative is not true or false');
    plan.zerosForEmptyNegative = zeros;
  }
  const pad = value['padToken'];
  if (pad !== undefined) {
    if (typeof pad !== 'string') throw bad('padToken is not text');
    plan.padToken = pad;
  }
  const dims = value['freeDimensionOverrides'];
  if (dims !== undefined) {
    if (!isRecord(dims) || !Object.values(dims).every((d) => typeof d === 'number' && Number.isInteger(d) && d > 0)) {
      throw bad('freeDimensionOverrides does not map names to whole numbers');
    }
    plan.freeDimensionOverrides = Object.fromEntries(Object.entries(dims).map(([k, d]) => [k, Number(d)]));
  }
  const approx = optionalNumber(value, 'approxBytes', 'plan');
  if (approx !== undefined) plan.approxBytes = approx;
  const stall = optionalNumber(value, 'stallMs', 'plan');
  if (stall !== undefined) plan.stallMs = stall;
  const hosts = origins(value['hosts'], 'host list');
  if (hosts) plan.hosts = hosts;
  const redirectHosts = origins(value['redirectHosts'], 'list of hosts whose redirects are followed');
  if (redirectHosts) plan.redirectHosts = redirectHosts;
  if (value['safetyChecker'] !== undefined) plan.safetyChecker = safetyChecker(value['safetyChecker']);
  if (value['vae'] !== undefined) plan.vae = vaePlan(value['vae']);
  return plan;
}

function vaePlan(value: unknown): VaePlan {
  if (!isRecord(value) || !isRecord(value['source'])) throw bad('vae has no source');
  const { id, name, source } = value;
  if (typeof id !== 'string' || typeof name !== 'string') throw bad('vae has no id or name');
  if (source['format'] === 'folder')
    return { id, name, source: { format: 'folder', part: part(source['part'], 'vae') } };
  const { file, fileName } = source;
  if (source['format'] !== 'single-file' || !(file instanceof Blob) || typeof fileName !== 'string') {
    throw bad('vae is neither a folder nor a picked file');
  }
  return { id, name, source: { format: 'single-file', file, fileName } };
}

function origins(value: unknown, what: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!(Array.isArray(value) && value.every((h): h is string => typeof h === 'string'))) {
    throw new ValidationError(`The model plan has a ${what} that is not a list of origins.`, 'model');
  }
  return value;
}

function safetyChecker(value: unknown): SafetyCheckerPlan {
  if (!isRecord(value) || (value['source'] !== 'model' && value['source'] !== 'site')) {
    throw bad('safetyChecker is not a checker of the model or the site');
  }
  return {
    part: part(value['part'], 'safetyChecker.part'),
    preprocessor: fileRef(value['preprocessor'], 'safetyChecker.preprocessor'),
    source: value['source'],
  };
}

/** A ControlNetPlan as it arrives: an id and name, and a folder's files or a picked file. */
export function parseControlNetPlan(value: unknown): ControlNetPlan {
  const damaged = (what: string) => new ValidationError(`The ControlNet plan is damaged: ${what}.`, 'controlnet');
  if (!isRecord(value) || !isRecord(value['source'])) throw damaged('it has no source');
  const { id, name, cache, source } = value;
  if (typeof id !== 'string' || id.length === 0 || typeof name !== 'string') throw damaged('it has no id or name');
  let parsed: ControlNetPlan['source'];
  if (source['format'] === 'folder') {
    parsed = { format: 'folder', part: part(source['part'], 'controlnet') };
  } else if (source['format'] === 'single-file') {
    const { file, fileName } = source;
    if (!(file instanceof Blob) || typeof fileName !== 'string') throw damaged('the ControlNet file is missing');
    parsed = { format: 'single-file', file, fileName };
  } else {
    throw damaged('its source is neither a folder nor a file');
  }
  const plan: ControlNetPlan = { id, name, cache: cache === true, source: parsed };
  const hosts = origins(value['hosts'], 'host list');
  if (hosts) plan.hosts = hosts;
  const redirectHosts = origins(value['redirectHosts'], 'list of hosts whose redirects are followed');
  if (redirectHosts) plan.redirectHosts = redirectHosts;
  const stall = optionalNumber(value, 'stallMs', 'plan');
  if (stall !== undefined) plan.stallMs = stall;
  return plan;
}
