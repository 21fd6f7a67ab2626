"""Karras sigmas as diffusers computes them, for tests/fixtures/goldens/scheduler-karras.json.

    PYTHONPATH=../shared/vendor/diffusers/src python3 python/goldens/karras_sigmas.py \
        > tests/fixtures/goldens/scheduler-karras.json

Each scheduler that reads `use_karras_sigmas` (DPM++ 2M, Euler, LMS), built from SD 1.5's scheduler
config with it on, then `set_timesteps(steps)`: its timesteps and sigmas.
"""

import json

import diffusers
from diffusers import DPMSolverMultistepScheduler, EulerDiscreteScheduler, LMSDiscreteScheduler

CONFIG = dict(
    num_train_timesteps=1000,
    beta_start=0.00085,
    beta_end=0.012,
    beta_schedule="scaled_linear",
    steps_offset=1,
    use_karras_sigmas=True,
)

cases = []
for name, cls in [
    ("dpmpp-2m", DPMSolverMultistepScheduler),
    ("euler", EulerDiscreteScheduler),
    ("lms", LMSDiscreteScheduler),
]:
    for steps in (1, 10, 25):
        scheduler = cls(**CONFIG)
        scheduler.set_timesteps(steps)
        cases.append(
            {
                "scheduler": name,
                "steps": steps,
                "timesteps": [float(t) for t in scheduler.timesteps],
                "sigmas": [float(s) for s in scheduler.sigmas],
            }
        )
print(json.dumps({"diffusers": diffusers.__version__, "config": CONFIG, "cases": cases}))
