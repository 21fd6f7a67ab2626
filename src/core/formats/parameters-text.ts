/**
 * Generation parameters as the text other SD tools write into PNGs (A1111 style):
 *   <prompt>
 *   Negative prompt: <negative>
 *   Steps: 20, Sampler: Euler a, CFG scale: 7.5, Seed: 42, Size: 512x512, Model: tiny-sd
 * Karras sigmas are written as A1111 before 1.9 did ("Sampler: DPM++ 2M Karras") and read in both
 * that form and the later "Schedule type: Karras". Extra keys this app adds: Denoising strength
 * (as A1111), Mode.
 */
import type { GenerationSettings } from '../generation-settings';
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
  if (p.mode !== 'txt2img' && p.strength !== undefined) fields.push(['Denoising strength', String(p.strength)]);
  fields.push(['Mode', p.mode]);
  const lines = [p.prompt];
  if (p.negativePrompt) lines.push(`Negative prompt: ${p.negativePrompt}`);
  lines.push(fields.map(([k, v]) => `${k}: ${quoteIfNeeded(v)}`).join(', '));
  return lines.join('\n');
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

/** What could be read; fields another tool did not write are absent. */
export type ParsedParameters = Partial<GenerationSettings> & { prompt: string; negativePrompt: string };

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
  const num = (key: string): number | undefined => {
    const v = fields.get(key);
    const n = v === undefined ? Number.NaN : Number(v);
    return Number.isFinite(n) ? n : undefined;
  };
  const steps = num('Steps');
  if (steps !== undefined) out.steps = steps;
  const cfg = num('CFG scale');
  if (cfg !== undefined) out.guidanceScale = cfg;
  const seed = fields.get('Seed');
  if (seed !== undefined && /^\d+$/.test(seed)) out.seed = seed;
  const size = /^(\d+)x(\d+)$/.exec(fields.get('Size') ?? '');
  if (size) {
    out.width = Number(size[1]);
    out.height = Number(size[2]);
  }
  const sampler = fields.get('Sampler');
  const scheduler = sampler ? schedulerFromSampler(sampler) : undefined;
  if (scheduler) out.scheduler = scheduler;
  // "Sampler: DPM++ 2M Karras" (A1111 before 1.9), or "Schedule type: Karras" beside the sampler (since).
  const karras = / karras$/i.test(sampler ?? '') || /^karras$/i.test(fields.get('Schedule type') ?? '');
  if (karras && scheduler && SCHEDULERS[scheduler].karras) out.karras = true;
  const model = fields.get('Model');
  if (model) out.model = model;
  const strength = num('Denoising strength');
  if (strength !== undefined) out.strength = strength;
  const mode = fields.get('Mode');
  if (mode && (MODES as readonly string[]).includes(mode)) out.mode = mode as Mode;
  return out;
}
