/**
 * Request kinds only the benchmark (`npm run bench`, `?bench`) and the reliability tests
 * (`?testHooks=1`) send, one row each. The page and the worker load this module with `import()`
 * only when the page was opened with one of those flags, so the product's bundle has none of it.
 */
import { ValidationError } from '../core/errors';
import { isRecord, type JsonObject } from '../core/json';
import { validateSize, validateSteps } from '../core/validate';
import type { BenchGraphParams, BenchGraphResult, BenchParams, BenchResult, TestHookAction } from './dev-messages';
import { row, type ProtocolOf } from './request-row';

type Raw = JsonObject;

const onOrigin = (v: unknown): v is string => typeof v === 'string' && v.startsWith('/');

function parseBench(params: Raw): BenchParams {
  const graphUrl = params['graphUrl'];
  if (graphUrl !== undefined && !onOrigin(graphUrl)) {
    throw new ValidationError('graphUrl must be a path on this origin.');
  }
  return {
    width: validateSize(params['width'], 'width'),
    height: validateSize(params['height'], 'height'),
    steps: validateSteps(params['steps']),
    runs: validateSteps(params['runs']),
    resident: params['resident'] !== false,
    repeats: params['repeats'] === undefined ? 20 : validateSteps(params['repeats']),
    ...(graphUrl !== undefined ? { graphUrl } : {}),
  };
}

function parseCheckpointRef(value: unknown): BenchGraphParams['checkpoint'] {
  const linear = isRecord(value) ? value['linear'] : undefined;
  if (
    !isRecord(value) ||
    !onOrigin(value['configUrl']) ||
    !onOrigin(value['weightsUrl']) ||
    !(linear === undefined || linear === 'gemm' || linear === 'matmul')
  ) {
    throw new ValidationError('checkpoint must be {configUrl, weightsUrl, linear?} with paths on this origin.');
  }
  return {
    configUrl: value['configUrl'],
    weightsUrl: value['weightsUrl'],
    ...(linear !== undefined ? { linear } : {}),
  };
}

function parseBenchGraph(params: Raw): BenchGraphParams {
  const { url, external, dims, checkpoint } = params;
  if (url !== undefined && !onOrigin(url)) throw new ValidationError('url must be a path on this origin.');
  if (
    external !== undefined &&
    !(isRecord(external) && onOrigin(external['url']) && typeof external['path'] === 'string')
  ) {
    throw new ValidationError('external must be {path, url} with a path on this origin.');
  }
  const ref = checkpoint === undefined ? undefined : parseCheckpointRef(checkpoint);
  if ((url === undefined) === (ref === undefined)) throw new ValidationError('Give url or checkpoint.');
  let sizes: Record<string, number> | undefined;
  if (dims !== undefined) {
    if (!isRecord(dims)) throw new ValidationError('dims must map names to whole numbers.');
    sizes = {};
    for (const [name, d] of Object.entries(dims)) {
      if (typeof d !== 'number' || !Number.isInteger(d) || d <= 0) {
        throw new ValidationError('dims must map names to whole numbers.');
      }
      sizes[name] = d;
    }
  }
  return {
    repeats: validateSteps(params['repeats']),
    ...(url !== undefined ? { url } : {}),
    ...(ref !== undefined ? { checkpoint: ref } : {}),
    ...(isRecord(external) ? { external: { path: String(external['path']), url: String(external['url']) } } : {}),
    ...(sizes !== undefined ? { dims: sizes } : {}),
  };
}

function parseTestHook(params: Raw): { action: TestHookAction } {
  const action = params['action'];
  if (action !== 'lose-device' && action !== 'crash' && action !== 'close') {
    throw new ValidationError('Unknown test hook.');
  }
  return { action };
}

export const DEV_REQUESTS = {
  /** Timing of the loaded model's phases in this browser (npm run bench). */
  bench: row<BenchParams, BenchResult>()({ parse: parseBench }),
  /** Times one ONNX graph (with external data) on the loaded model's backend: session creation and runs. */
  benchGraph: row<BenchGraphParams, BenchGraphResult>()({ parse: parseBenchGraph }),
  /** Fault injection for the reliability tests (the page sends it only with ?testHooks=1). */
  testHook: row<{ action: TestHookAction }, { done: boolean }>()({ parse: parseTestHook }),
};

export type DevRequestRows = typeof DEV_REQUESTS;
export type DevRequestMap = ProtocolOf<DevRequestRows>;
