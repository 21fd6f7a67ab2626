import type { Mode } from '../core/modes';
import { useStore } from '../store';
import { Field } from './Field';

const HINT: Record<Exclude<Mode, 'txt2img'>, string> = {
  img2img: '0 keeps the picture, 1 nearly replaces it (0.6 as in the seed notebook).',
  inpaint: '1 repaints the masked part from scratch; lower keeps more of what was there.',
  depth2img: 'How far from the picture to go while keeping its depth (0.8 as in diffusers).',
};

/** Strength for the current image mode; each mode keeps its own value. */
export function StrengthSetting({ mode }: { mode: Exclude<Mode, 'txt2img'> }) {
  const value = useStore((s) => s.strength[mode]);
  const invalid = useStore((s) => s.job.error?.field === 'strength');
  return (
    <Field label={`Strength: ${Number.isNaN(value) ? '–' : value.toFixed(2)}`} htmlFor="strength" hint={HINT[mode]}>
      <input
        id="strength"
        data-testid="strength"
        type="range"
        min={0}
        max={1}
        step={0.01}
        value={Number.isNaN(value) ? 0 : value}
        aria-invalid={invalid || undefined}
        onChange={(e) => useStore.getState().setStrength(mode, Number(e.target.value))}
      />
    </Field>
  );
}
