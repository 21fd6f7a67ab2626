/**
 * Named errors: each carries a message a person can act on. They cross the worker boundary as
 * plain `{name, message}` and are rebuilt by name on the other side.
 */

export class LatentStudioError extends Error {
  // Names are spelled out: minifiers rename classes, and the name is what crosses the worker boundary.
  override name = 'LatentStudioError';
  constructor(
    message: string,
    /** The technical reason, for those who ask (the page shows it one click away from the message). */
    readonly detail?: string,
  ) {
    super(message);
  }
}

/** Input a person gave that the pipeline cannot use as is. */
export class ValidationError extends LatentStudioError {
  override name = 'ValidationError';
  constructor(
    message: string,
    /** The parameter at fault, so the UI can point at its control. */
    readonly field?: string,
    detail?: string,
  ) {
    super(message, detail);
  }
}

/** A scheduler config or call that diffusers itself would reject. */
export class SchedulerError extends LatentStudioError {
  override name = 'SchedulerError';
}

/** A model file or its outputs are not what the pipeline needs. */
export class ModelError extends LatentStudioError {
  override name = 'ModelError';
}

/** The user cancelled; not a failure. */
export class CancelledError extends LatentStudioError {
  override name = 'CancelledError';
  constructor(message = 'Cancelled.') {
    super(message);
  }
}

/** NaN/Inf in latents or a black image: the result is not shown as if it were one. */
export class NumericalError extends LatentStudioError {
  override name = 'NumericalError';
}

/** The GPU device went away (driver reset, sleep, another tab's hang): the runtime must start over. */
export class DeviceLostError extends LatentStudioError {
  override name = 'DeviceLostError';
}

export interface SerializedError {
  name: string;
  message: string;
  field?: string;
  /** The technical reason behind a message in plain words. */
  detail?: string;
}

export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const field = error instanceof ValidationError ? error.field : undefined;
  const detail = error instanceof LatentStudioError ? error.detail : undefined;
  return {
    name: error.name,
    message: error.message,
    ...(field !== undefined ? { field } : {}),
    ...(detail !== undefined ? { detail } : {}),
  };
}

export function isCancelled(error: unknown): boolean {
  return (
    error instanceof CancelledError ||
    (error instanceof Error && (error.name === 'CancelledError' || error.name === 'AbortError'))
  );
}
