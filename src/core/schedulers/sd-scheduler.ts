/**
 * Stable Diffusion's own scheduler config: SD 1.5's and SD 2 base's `scheduler_config.json` (PNDM
 * with PLMS steps, SD's scaled-linear betas). For models that come without one.
 */
export const SD_SCHEDULER_CONFIG = {
  _class_name: 'PNDMScheduler',
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  num_train_timesteps: 1000,
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  clip_sample: false,
} as const;

/**
 * SDXL base's own `scheduler_config.json`: Euler with SD's betas and leading timesteps. For SDXL
 * single files, which come without one.
 */
export const SDXL_SCHEDULER_CONFIG = {
  ...SD_SCHEDULER_CONFIG,
  _class_name: 'EulerDiscreteScheduler',
  interpolation_type: 'linear',
  timestep_spacing: 'leading',
  use_karras_sigmas: false,
} as const;
