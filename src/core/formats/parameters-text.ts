/**
 * Generation parameters as the text other SD tools write into PNGs (A1111 style):
 *   <prompt>
 *   Negative prompt: <negative>
 *   Steps: 20, Sampler: Euler a, CFG scale: 7.5, Seed: 42, Size: 512x512, Model: tiny-sd
 * Karras sigmas are written as A1111 before 1.9 did ("Sampler: DPM++ 2M Karras") and read in both
 * that form and the later "Schedule type: Karras". Clip skip and hires fix ("Hires upscale",
 * "Hires steps", "Hires upscaler", "Denoising strength") as A1111 writes them. Extra keys this app
 * adds: Denoising strength of the image modes (as A1111's img2img), Mode, and "Prompt syntax: plain"
 * for a prompt read literally. ControlNets as A1111's extension writes them ("ControlNet 0: "Module:
 * canny, Model: …, Weight: …, Guidance Start: …, Guidance End: …""). Reading says which fields it
 * could not restore.
 */
import type {
  ControlNetRecord,
  ControlPreprocessorName,
  GenerationSettings,
  HiresUpscaler,
} from '../generation-settings';
import { SCHEDULERS } from '../schedulers';
import { SCHEDULER_NAMES, type SchedulerName } from '../schedulers/types';
import { MODES, type Mode } from '../modes';

/** Sampler names as A1111 writes them, for ours. */
const SAMPLER_NAMES: Record<SchedulerName, string> = {
  pndm: 'PNDM',
  ddim: 'DDIM',
  lms: 'LMS',
  euler: 'Euler',
  'euler-ancestral': 'Euler a',
  'dpmpp-2m': 'DPM++ 2M',
  lcm: 'LCM',
};

export function formatParameters(p: GenerationSettings): string {
  const fields: [string, string][] = [
    ['Steps', String(p.steps)],
    ['Sampler', `${SAMPLER_NAMES[p.scheduler]}${p.karras ? ' Karras' : ''}`],
    ['CFG scale', String(p.guidanceScale)],
    ['Seed', p.seed],
    ['Size', `${p.width}x${p.height}`],
    ['Model', p.model],
  ];
  if (p.clipSkip !== undefined && p.clipSkip > 1) fields.push(['Clip skip', String(p.clipSkip)]);
  if (p.mode !== 'txt2img' && p.strength !== undefined) fields.push(['Denoising strength', String(p.strength)]);
  if (p.mode === 'txt2img' && p.hires) {
    fields.push(['Denoising strength', String(p.hires.denoise)], ['Hires upscale', String(p.hires.scale)]);
    if (p.hires.steps > 0) fields.push(['Hires steps', String(p.hires.steps)]);
    fields.push(['Hires upscaler', UPSCALER_NAMES[p.hires.upscaler]]);
  }
  for (const [i, c] of (p.controlnets ?? []).entries())
    fields.push([`ControlNet ${i}`, formatControlNet(c, p.guessMode)]);
  if (p.promptSyntax === 'plain') fields.push(['Prompt syntax', 'plain']);
  fields.push(['Mode', p.mode]);
  const lines = [p.prompt];
  if (p.negativePrompt) lines.push(`Negative prompt: ${p.negativePrompt}`);
  lines.push(fields.map(([k, v]) => `${k}: ${quoteIfNeeded(v)}`).join(', '));
  return lines.join('\n');
}

/** A1111's module names for our preprocessors (a drawn scribble is used as it is: module "none"). */
const MODULE_NAMES: Record<ControlPreprocessorName, string> = {
  none: 'none',
  canny: 'canny',
  depth: 'depth_midas',
  scribble: 'none',
};

/** Guess mode is A1111's "ControlNet is more important"; without it, "Balanced". */
const CONTROL_MODES = { balanced: 'Balanced', guess: 'ControlNet is more important' };

function formatControlNet(c: ControlNetRecord, guessMode = false): string {
  const parts: [string, string][] = [
    ['Module', MODULE_NAMES[c.module]],
    ['Model', c.model],
    ['Weight', String(c.weight)],
    ...(c.module === 'canny'
      ? ([
          ['Threshold A', String(c.cannyLow ?? 100)],
          ['Threshold B', String(c.cannyHigh ?? 200)],
        ] as [string, string][])
      : []),
    ['Guidance Start', String(c.start)],
    ['Guidance End', String(c.end)],
    ['Control Mode', guessMode ? CONTROL_MODES.guess : CONTROL_MODES.balanced],
  ];
  return parts.map(([k, v]) => `${k}: ${v.replace(/,/g, ' ')}`).join(', ');
}

/**
 * One "ControlNet N" value: the module (canny, depth_* and none read; others noted), the model's
 * name, weight, thresholds and range. Null when the value has no model.
 */
function parseControlNet(
  value: string,
  notes: string[],
  index: string,
): { record: ControlNetRecord; guess: boolean } | null {
  const f = parseFields(value);
  const model = f.get('Model');
  if (!model || /^none$/i.test(model)) return null;
  const number = (key: string, fallback: number) => {
    const n = Number(f.get(key));
    return f.has(key) && Number.isFinite(n) ? n : fallback;
  };
  const moduleName = (f.get('Module') ?? 'none').toLowerCase();
  const module: ControlPreprocessorName =
    moduleName === 'canny' ? 'canny' : moduleName.startsWith('depth') ? 'depth' : 'none';
  if (module === 'none' && moduleName !== 'none')
    notes.push(`ControlNet ${index} module: ${moduleName} (the picture is used as it is here)`);
  return {
    record: {
      module,
      model,
      weight: number('Weight', 1),
      start: number('Guidance Start', 0),
      end: number('Guidance End', 1),
      ...(module === 'canny' ? { cannyLow: number('Threshold A', 100), cannyHigh: number('Threshold B', 200) } : {}),
    },
    guess: /controlnet is more important/i.test(f.get('Control Mode') ?? ''),
  };
}

function quoteIfNeeded(value: string): string {
  return /[,:\n"]/.test(value) ? JSON.stringify(value) : value;
}

/** Splits `Key: value, Key: "quoted, value", …` into pairs. */
function parseFields(line: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /\s*([\w .+\-/()]+?):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)/g;
  for (const m of line.matchAll(re)) {
    const key = m[1]!.trim();
    let value = m[2]!.trim();
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        // keep as written
      }
    }
    out.set(key, value);
  }
  return out;
}

/**
 * What could be read; fields another tool did not write are absent. `notRestored` names, as the
 * text has them, the fields this app cannot apply (or applied only in part, saying how).
 */
export type ParsedParameters = Partial<GenerationSettings> & {
  prompt: string;
  negativePrompt: string;
  notRestored?: string[];
};

const UPSCALER_NAMES: Record<HiresUpscaler, string> = { latent: 'Latent', lanczos: 'Lanczos' };

/** Fields that describe a picture rather than set anything (hashes, versions): nothing to restore. */
const INFORMATIONAL = /^(Model hash|VAE hash|Version|Lora hashes|TI hashes|Hashes|Emphasis)$/i;

function schedulerFromSampler(name: string): SchedulerName | undefined {
  const lower = name.toLowerCase();
  const exact = (Object.entries(SAMPLER_NAMES) as [SchedulerName, string][]).find(([, n]) => n.toLowerCase() === lower);
  if (exact) return exact[0];
  // Karras and other variants of the same solver ("DPM++ 2M Karras", "Euler a Karras").
  const prefix = (Object.entries(SAMPLER_NAMES) as [SchedulerName, string][])
    .sort((a, b) => b[1].length - a[1].length)
    .find(([, n]) => lower.startsWith(`${n.toLowerCase()} `));
  return prefix?.[0] ?? ((SCHEDULER_NAMES as readonly string[]).find((n) => n === lower) as SchedulerName | undefined);
}

export function parseParameters(text: string): ParsedParameters | null {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  let settingsIndex = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (/^\s*Steps:\s*\d+/.test(lines[i]!)) {
      settingsIndex = i;
      break;
    }
  }
  if (settingsIndex < 0) return null;
  const before = lines.slice(0, settingsIndex);
  const negIndex = before.findIndex((l) => l.startsWith('Negative prompt:'));
  const prompt = (negIndex < 0 ? before : before.slice(0, negIndex)).join('\n').trim();
  const negativePrompt =
    negIndex < 0
      ? ''
      : before
          .slice(negIndex)
          .join('\n')
          .replace(/^Negative prompt:\s*/, '')
          .trim();
  const fields = parseFields(lines.slice(settingsIndex).join(', '));
  const out: ParsedParameters = { prompt, negativePrompt };
  const used = new Set<string>();
  const notes: string[] = [];
  const get = (key: string): string | undefined => {
    const v = fields.get(key);
    if (v !== undefined) used.add(key);
    return v;
  };
  const num = (key: string): number | undefined => {
    const v = get(key);
    const n = v === undefined ? Number.NaN : Number(v);
    return Number.isFinite(n) ? n : undefined;
  };
  const steps = num('Steps');
  if (steps !== undefined) out.steps = steps;
  const cfg = num('CFG scale');
  if (cfg !== undefined) out.guidanceScale = cfg;
  const seed = get('Seed');
  if (seed !== undefined && /^\d+$/.test(seed)) out.seed = seed;
  const size = /^(\d+)x(\d+)$/.exec(get('Size') ?? '');
  if (size) {
    out.width = Number(size[1]);
    out.height = Number(size[2]);
  }
  const sampler = get('Sampler');
  const scheduler = sampler ? schedulerFromSampler(sampler) : undefined;
  if (scheduler) out.scheduler = scheduler;
  else if (sampler) notes.push(`Sampler: ${sampler} (not available here)`);
  // "Sampler: DPM++ 2M Karras" (A1111 before 1.9), or "Schedule type: Karras" beside the sampler (since).
  const scheduleType = get('Schedule type');
  const karras = / karras$/i.test(sampler ?? '') || /^karras$/i.test(scheduleType ?? '');
  if (karras && scheduler && SCHEDULERS[scheduler].karras) out.karras = true;
  else if (karras && scheduler) notes.push(`Karras (${SAMPLER_NAMES[scheduler]} has no Karras sigmas here)`);
  if (scheduleType && !/^(karras|automatic)$/i.test(scheduleType)) notes.push(`Schedule type: ${scheduleType}`);
  const model = get('Model');
  if (model) out.model = model;
  const mode = get('Mode');
  if (mode && (MODES as readonly string[]).includes(mode)) out.mode = mode as Mode;
  const clipSkip = num('Clip skip');
  if (clipSkip !== undefined && Number.isInteger(clipSkip) && clipSkip >= 1) {
    if (clipSkip > 1) out.clipSkip = clipSkip;
  } else if (fields.has('Clip skip')) notes.push(`Clip skip: ${fields.get('Clip skip')}`);
  if (get('Prompt syntax') === 'plain') out.promptSyntax = 'plain';
  const strength = num('Denoising strength');
  const hiresScale = num('Hires upscale');
  if (hiresScale !== undefined && (out.mode ?? 'txt2img') === 'txt2img') {
    // In a txt2img picture, A1111's "Denoising strength" is hires fix's.
    const upscalerName = get('Hires upscaler') ?? 'Latent';
    const upscaler = /^latent/i.test(upscalerName) ? 'latent' : 'lanczos';
    if (!/^(latent|lanczos)$/i.test(upscalerName)) {
      notes.push(`Hires upscaler: ${upscalerName} (${UPSCALER_NAMES[upscaler]} used here)`);
    }
    out.hires = { scale: hiresScale, steps: num('Hires steps') ?? 0, denoise: strength ?? 0.7, upscaler };
  } else if (strength !== undefined) out.strength = strength;
  const controlnets: ControlNetRecord[] = [];
  for (const [key, value] of fields) {
    const index = /^ControlNet (\d+)$/.exec(key)?.[1];
    if (index === undefined) continue;
    used.add(key);
    const parsed = parseControlNet(value, notes, index);
    if (!parsed) continue;
    controlnets.push(parsed.record);
    if (parsed.guess) out.guessMode = true;
  }
  if (controlnets.length > 0) out.controlnets = controlnets;
  for (const key of fields.keys()) {
    if (!used.has(key) && !INFORMATIONAL.test(key)) notes.push(`${key}: ${fields.get(key)}`);
  }
  if (notes.length > 0) out.notRestored = notes;
  return out;
}
