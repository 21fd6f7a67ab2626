import { useStore } from '../store';
import { Field } from './Field';

type NumericSetting =
  | 'guidanceScale'
  | 'steps'
  | 'width'
  | 'height'
  | 'batchCount'
  | 'clipSkip'
  | 'hiresScale'
  | 'hiresSteps'
  | 'hiresDenoise';

interface Props {
  setting: NumericSetting;
  /** Element id and data-testid. */
  id: string;
  label: string;
  hint?: string;
  min: number;
  max: number;
  step?: number;
  list?: string;
}

/**
 * A labelled number input bound to one numeric setting. An empty box is stored as NaN so the
 * pipeline's own check explains what is missing, rather than the value snapping back.
 */
export function NumberSetting({ setting, id, label, hint, min, max, step, list }: Props) {
  const value = useStore((s) => s[setting]);
  const setSetting = useStore((s) => s.setSetting);
  const invalid = useStore((s) => s.job.error?.field === setting);
  return (
    <Field label={label} htmlFor={id} hint={hint}>
      <input
        id={id}
        data-testid={id}
        type="number"
        min={min}
        max={max}
        step={step}
        list={list}
        value={Number.isNaN(value) ? '' : value}
        aria-invalid={invalid || undefined}
        onChange={(e) => setSetting(setting, e.target.value.trim() === '' ? Number.NaN : Number(e.target.value))}
      />
    </Field>
  );
}
