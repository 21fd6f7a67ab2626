/** The explore view's kinds: the prompt as the tokenizer sees it, and a VAE round trip of a picture. */
import type { RgbaImage } from '../../core/image/rgba';
import { vaeRoundTrip } from '../../core/pipeline/explore';
import { promptTokens } from '../../core/pipeline/prompt';
import type { PromptSyntax } from '../../core/prompt/syntax';
import type { RoundTripResult, TokenView } from '../../protocol/messages';
import type { WantedAdditions } from '../../protocol/requests';
import type { RunContext } from '../handler/kinds';
import type { ModelSlot } from '../handler/model-slot';

/** CLIP's own special tokens, for an ONNX export whose tokenizer does not say. */
const CLIP_SPECIAL = { bos: 49406, eos: 49407, pad: 49407 };

export const tokenizeRunner =
  (slot: ModelSlot) =>
  async (
    { text, syntax, additions }: { text: string; syntax: PromptSyntax; additions: WantedAdditions },
    ctx: RunContext,
  ): Promise<TokenView> => {
    // With the run's embeddings, so their trigger words show as their own tokens.
    const { models } = await slot.withAdditions(additions, ctx.onProgress);
    const { chunks, truncated } = await promptTokens(models, text, syntax);
    const special = models.specialTokens ?? CLIP_SPECIAL;
    return {
      chunks: chunks.map((chunk) => {
        const ids = Array.from(chunk.ids);
        return {
          ids,
          tokens: models.describeTokens?.(ids) ?? ids.map(String),
          weights: Array.from(chunk.weights),
          used: chunk.tokens + 2,
        };
      }),
      truncated,
      bosId: special.bos,
      eosId: special.eos,
      padId: special.pad,
    };
  };

export const vaeRoundTripRunner =
  (slot: ModelSlot) =>
  async ({ image }: { image: RgbaImage }): Promise<RoundTripResult> => {
    const trip = await vaeRoundTrip(slot.require().models, image);
    return {
      width: image.width,
      height: image.height,
      pixels: trip.reconstruction.pixels.buffer as ArrayBuffer,
      latents: trip.latents.buffer as ArrayBuffer,
      channels: trip.channels,
      latentWidth: trip.latentWidth,
      latentHeight: trip.latentHeight,
      meanAbsError: trip.meanAbsError,
      psnr: trip.psnr,
    };
  };
