/** explore mode: the prompt's tokens, and a VAE round trip of the start image or the last result. */
import type { LoraActions } from './lora-actions';
import { parseLoraTags } from '../core/prompt/lora-tags';
import { serializeError, ValidationError } from '../core/errors';
import { renderInitImage } from '../canvas/init-image';
import { currentResult } from '../canvas/result-surface';
import { setRoundTrip } from '../canvas/round-trip';
import type { AppStore } from '../store';
import type { WorkerSession } from './worker-session';

export type ExploreActions = ReturnType<typeof createExploreActions>;

export function createExploreActions({
  store,
  session,
  loras,
}: {
  store: AppStore;
  session: WorkerSession;
  loras: LoraActions;
}) {
  function say(notice: string): void {
    store.getState().say(notice);
  }

  async function tokenizePrompt(): Promise<void> {
    const text = store.getState().prompt;
    try {
      await session.ensureModel();
      const { prompt, tags } = parseLoraTags(text);
      const view = await session.client.request('tokenize', {
        text: prompt,
        promptSyntax: store.getState().promptSyntax,
        loras: await loras.lorasForRun(tags),
        embeddings: await loras.embeddingsForRun(),
      });
      store.getState().tokensShown({ ...view, text });
    } catch (error) {
      say(`Could not tokenize: ${serializeError(error).message}`);
    }
  }

  /** The picture to round-trip: the start image at the output size, else the last result. */
  function roundTripSource(): {
    image: ImageData | { width: number; height: number; data: Uint8ClampedArray };
    name: string;
  } {
    const s = store.getState();
    const start = renderInitImage(s.width, s.height, s.resizeMode);
    if (start)
      return {
        image: { width: start.width, height: start.height, data: start.pixels },
        name: `start image (${s.initImage?.name ?? ''})`,
      };
    const result = currentResult();
    if (result) return { image: result, name: `last result (seed ${s.result?.settings.seed ?? '?'})` };
    throw new ValidationError('Generate an image or choose a start image first, then run the round trip.', 'image');
  }

  async function runRoundTrip(): Promise<void> {
    try {
      const { image, name } = roundTripSource();
      await session.ensureModel();
      const pixels = new Uint8ClampedArray(image.data).buffer;
      const r = await session.client.request('vaeRoundTrip', {
        image: { width: image.width, height: image.height, pixels },
      });
      setRoundTrip(
        new Float32Array(r.latents),
        r.channels,
        r.latentWidth,
        r.latentHeight,
        new ImageData(new Uint8ClampedArray(r.pixels), r.width, r.height),
      );
      store.getState().roundTripShown({
        width: r.width,
        height: r.height,
        channels: r.channels,
        latentWidth: r.latentWidth,
        latentHeight: r.latentHeight,
        meanAbsError: r.meanAbsError,
        psnr: r.psnr,
        source: name,
      });
    } catch (error) {
      say(`VAE round trip: ${serializeError(error).message}`);
    }
  }

  return { tokenizePrompt, runRoundTrip };
}
