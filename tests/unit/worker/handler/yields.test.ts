/** withYields: every network call takes its turn of the event loop and passes its arguments through. */
import { describe, expect, it } from 'vitest';
import { withYields } from '../../../../src/worker/handler/yields';
import { fakeModels } from '../../../helpers/fake-models';

describe('withYields', () => {
  it('passes clip skip through to the text encoder, and stops a cancelled job before the call', async () => {
    const models = fakeModels();
    const seen: (number | undefined)[] = [];
    const base = {
      ...models,
      encodeText: async (ids: Int32Array, clipSkip?: number) => (seen.push(clipSkip), models.encodeText(ids)),
    };
    let cancelled = false;
    const wrapped = withYields(
      base,
      async () => undefined,
      () => cancelled,
    );
    await wrapped.encodeText(new Int32Array(77), 2);
    await wrapped.encodeText(new Int32Array(77));
    expect(seen).toEqual([2, undefined]);
    cancelled = true;
    await expect(wrapped.encodeText(new Int32Array(77), 2)).rejects.toThrow('Cancelled');
    expect(seen).toHaveLength(2);
  });

  it("passes what else the UNet takes (ControlNet residuals, LCM's embedding, SDXL's pooled text) through", async () => {
    const models = fakeModels();
    const seen: unknown[][] = [];
    const base: typeof models = {
      ...models,
      unet: async (...args) => (seen.push(args.slice(3)), models.unet(...args)),
    };
    const wrapped = withYields(
      base,
      async () => undefined,
      () => false,
    );
    const sample = { data: new Float32Array(4 * 8 * 8), dims: [1, 4, 8, 8] };
    const text = { data: new Float32Array(77 * 8), dims: [1, 77, 8] };
    const cond = { data: new Float32Array(4), dims: [1, 4] };
    const extras = {
      timestepCond: cond,
      control: { down: [sample], mid: sample },
      textTime: { textEmbeds: cond, timeIds: { data: new Float32Array(6), dims: [1, 6] } },
    };
    await wrapped.unet(sample, 10, text, extras);
    expect(seen).toEqual([[extras]]);
  });
});
