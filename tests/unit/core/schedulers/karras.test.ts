/**
 * Karras sigmas (A1111's "DPM++ 2M Karras", "Euler Karras", "LMS Karras"): the run's scheduler
 * config turns on diffusers' `use_karras_sigmas`, whose timesteps and sigmas equal diffusers'
 * (goldens/scheduler-karras.json); schedulers without them are refused by name.
 */
import { describe, expect, it } from 'vitest';
import { createScheduler, runSchedulerConfig, SCHEDULER_NAMES, SCHEDULERS } from '../../../../src/core/schedulers';
import type { SchedulerConfigJson, SchedulerName } from '../../../../src/core/schedulers/types';
import { SD_SCHEDULER_CONFIG } from '../../../../src/core/schedulers/sd-scheduler';
import { ValidationError } from '../../../../src/core/errors';
import { maxRelativeError, readGolden } from '../../../helpers/goldens';

interface KarrasGolden {
  config: SchedulerConfigJson;
  cases: { scheduler: SchedulerName; steps: number; timesteps: number[]; sigmas: number[] }[];
}

const golden = readGolden<KarrasGolden>('scheduler-karras.json');

describe('Karras sigmas', () => {
  it.each(golden.cases.map((c) => [`${c.scheduler} at ${c.steps} steps`, c] as const))(
    '%s: the timesteps and sigmas of diffusers',
    (_label, c) => {
      const { use_karras_sigmas: _on, ...plain } = golden.config;
      const s = createScheduler(c.scheduler, runSchedulerConfig(c.scheduler, plain, true));
      s.setTimesteps(c.steps);
      expect(maxRelativeError(s.timesteps, c.timesteps, 1)).toBeLessThan(1e-5);
      expect(maxRelativeError(s.sigmas!, c.sigmas)).toBeLessThan(1e-5);
    },
  );

  it('changes the schedule of every scheduler the registry says has them, and only those', () => {
    for (const name of SCHEDULER_NAMES) {
      const sigmasOf = (config: SchedulerConfigJson) => {
        const s = createScheduler(name, config);
        s.setTimesteps(10);
        return Array.from(s.sigmas ?? s.timesteps);
      };
      if (!SCHEDULERS[name].karras) {
        expect(() => runSchedulerConfig(name, SD_SCHEDULER_CONFIG, true)).toThrow(ValidationError);
        continue;
      }
      expect(sigmasOf(runSchedulerConfig(name, SD_SCHEDULER_CONFIG, true))).not.toEqual(sigmasOf(SD_SCHEDULER_CONFIG));
    }
  });

  it('refuses a scheduler without them in words, naming the ones that have them', () => {
    expect(() => runSchedulerConfig('pndm', SD_SCHEDULER_CONFIG, true)).toThrow(
      'PNDM has no Karras sigmas. Karras works with LMS, Euler, DPM++ 2M; pick one of those or turn Karras off.',
    );
    // Off, the model's own config runs untouched.
    expect(runSchedulerConfig('pndm', SD_SCHEDULER_CONFIG, false)).toBe(SD_SCHEDULER_CONFIG);
  });
});
