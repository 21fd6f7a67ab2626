/**
 * A manifest made into the worker's load plan: every file's URL resolved, with what to check
 * (listed sizes and SHA-256), what to convert and which hosts files may come from.
 */
import type {
  CheckpointPartRef,
  FileRef,
  LoadPlan,
  OnnxFileRef,
  PlanComponents,
  SafetyCheckerPlan,
} from '../protocol/load-plan';
import type { CheckpointPart, ManifestFile, ModelManifest, ModelSource, SafetyCheckerFiles } from './manifest';
import { SITE_SAFETY_CHECKER } from './safety-checker';
import { modelHosts } from './origins';
import { fileUrl } from './urls';

/** The checker a load takes (see plannedChecker): the model's own, or the site's with its files. */
export type PlannedSafety = { checker: 'model' } | { checker: 'site'; files: SafetyCheckerFiles } | null;

export function planLoad(manifest: ModelManifest, hub: string, origin: string, safety: PlannedSafety = null): LoadPlan {
  const source = resolveSource(manifest.source, origin);
  const url = (path: string) => fileUrl(source, hub, path);
  // A picked folder has what it has: a file it lacks is known missing, not fetched.
  const missing = (path: string) => (source.kind === 'local' && !source.urls[path] ? { missing: true } : {});
  const listed = (path: string) => {
    const info = manifest.files?.[path];
    return {
      ...(info?.size !== undefined ? { size: info.size } : {}),
      ...(info?.sha256 ? { sha256: info.sha256 } : {}),
    };
  };
  // A picked folder's files beside a graph, by name: the graph may name external data files.
  const siblings = (path: string) => {
    if (source.kind !== 'local') return {};
    const dir = path.slice(0, path.lastIndexOf('/') + 1);
    const near = Object.entries(source.urls).filter(([p]) => p.startsWith(dir) && !p.slice(dir.length).includes('/'));
    return { siblings: Object.fromEntries(near.map(([p, u]) => [p.slice(dir.length), u])) };
  };
  const ref = (f: ManifestFile): OnnxFileRef => ({
    url: url(f.path),
    path: f.path,
    ...missing(f.path),
    ...listed(f.path),
    ...siblings(f.path),
    ...(f.size !== undefined ? { size: f.size } : {}),
    ...(f.sha256 ? { sha256: f.sha256 } : {}),
    ...(f.externalData
      ? {
          externalData: f.externalData.map((e) => ({
            url: url(e.path),
            path: e.path,
            ...listed(e.path),
            ...(e.size !== undefined ? { size: e.size } : {}),
            ...(e.sha256 ? { sha256: e.sha256 } : {}),
          })),
        }
      : {}),
  });
  const plain = (path: string): FileRef => ({ url: url(path), path, ...missing(path), ...listed(path) });
  const weight = (path: string, convert: boolean | undefined): FileRef => ({
    ...plain(path),
    ...(convert ? { convert: 'fp16' as const } : {}),
  });
  const dir = manifest.tokenizer.dir.replace(/\/?$/, '/');
  const c = manifest.components;
  const part = (p: CheckpointPart): CheckpointPartRef => ({
    config: plain(p.config),
    weights: p.weights.map((w) => weight(w, p.convert)),
    ...(p.shards ? { shards: p.shards.map((s) => weight(s, p.convert)) } : {}),
  });
  const components: PlanComponents =
    c.format === 'onnx'
      ? {
          format: 'onnx',
          textEncoder: ref(c.textEncoder),
          unet: ref(c.unet),
          vaeDecoder: ref(c.vaeDecoder),
          ...(c.vaeEncoder ? { vaeEncoder: ref(c.vaeEncoder) } : {}),
        }
      : c.format === 'safetensors'
        ? {
            format: 'safetensors',
            textEncoder: part(c.textEncoder),
            ...(c.textEncoder2 ? { textEncoder2: part(c.textEncoder2) } : {}),
            unet: part(c.unet),
            vae: part(c.vae),
          }
        : {
            format: 'single-file',
            file: c.file,
            fileName: c.fileName,
            configs: c.configs
              ? {
                  textEncoder: plain(c.configs.textEncoder),
                  ...(c.configs.textEncoder2 ? { textEncoder2: plain(c.configs.textEncoder2) } : {}),
                  unet: plain(c.configs.unet),
                  vae: plain(c.configs.vae),
                }
              : null,
          };
  const site = { kind: 'hub' as const, repo: SITE_SAFETY_CHECKER.repo, revision: SITE_SAFETY_CHECKER.revision };
  const siteFile = (path: string, convert?: boolean): FileRef => ({
    url: fileUrl(site, hub, path),
    path: `${SITE_SAFETY_CHECKER.repo}/${path}`,
    ...(convert ? { convert: 'fp16' as const } : {}),
  });
  const safetyChecker: SafetyCheckerPlan | undefined =
    safety?.checker === 'model' && manifest.safetyChecker
      ? {
          part: part(manifest.safetyChecker.part),
          preprocessor: plain(manifest.safetyChecker.preprocessor),
          source: 'model',
        }
      : safety?.checker === 'site'
        ? {
            part: {
              config: siteFile(safety.files.part.config),
              weights: safety.files.part.weights.map((w) => siteFile(w, safety.files.part.convert)),
            },
            preprocessor: siteFile(safety.files.preprocessor),
            source: 'site',
          }
        : undefined;
  return {
    modelId: manifest.id,
    name: manifest.name,
    ...(safetyChecker ? { safetyChecker } : {}),
    // A picked file's few config files are not worth a cache record of their own.
    cache: (manifest.source.kind === 'hub' || manifest.source.kind === 'url') && c.format !== 'single-file',
    // The hub's hosts, and a folder URL's own origin: the person chose it by typing it.
    hosts: [...modelHosts(hub), ...(source.kind === 'url' ? [new URL(source.baseUrl).origin] : [])],
    redirectHosts: modelHosts(hub),
    components,
    scheduler: 'config' in manifest.scheduler ? { config: manifest.scheduler.config } : plain(manifest.scheduler.path),
    ...(manifest.tokenizer.hasTokenizerJson ? { tokenizerJson: plain(`${dir}tokenizer.json`) } : {}),
    tokenizerConfig: plain(`${dir}tokenizer_config.json`),
    specialTokensMap: plain(`${dir}special_tokens_map.json`),
    ...(manifest.tokenizer2
      ? {
          secondTokenizer: {
            tokenizerConfig: plain(`${manifest.tokenizer2.dir.replace(/\/?$/, '/')}tokenizer_config.json`),
            specialTokensMap: plain(`${manifest.tokenizer2.dir.replace(/\/?$/, '/')}special_tokens_map.json`),
            ...(manifest.tokenizer2.padToken !== undefined ? { padToken: manifest.tokenizer2.padToken } : {}),
          },
        }
      : {}),
    ...(manifest.zerosForEmptyNegative !== undefined ? { zerosForEmptyNegative: manifest.zerosForEmptyNegative } : {}),
    ...(manifest.vaeConfigPath ? { vaeConfig: plain(manifest.vaeConfigPath) } : {}),
    ...(manifest.padToken !== undefined ? { padToken: manifest.padToken } : {}),
    ...(manifest.freeDimensionOverrides ? { freeDimensionOverrides: manifest.freeDimensionOverrides } : {}),
    dtype: manifest.dtype,
    ...(manifest.approxBytes !== undefined ? { approxBytes: manifest.approxBytes } : {}),
  };
}

/** App-relative base URLs become absolute against the page's origin (the worker resolves nothing). */
function resolveSource(source: ModelSource, origin: string): ModelSource {
  return source.kind === 'hub' || source.kind === 'local'
    ? source
    : { ...source, baseUrl: new URL(source.baseUrl, origin).href };
}
