import { useEffect, useRef, useState } from 'react';
import { paintCanvas } from '../canvas/paint';
import { onRoundTripChange, roundTripImages } from '../canvas/round-trip';
import { selectBusy, useStore } from '../store';
import { SchedulePlot } from './SchedulePlot';
import type { TokenChunkView, TokenView } from '../protocol/messages';
import { useActions } from './actions';

/** One 77-token window: start, words (with their weight where it is not 1), end, padding. */
function TokenChunk({ chunk, view, index }: { chunk: TokenChunkView; view: TokenView; index: number }) {
  return (
    <ol className="token-list" data-testid="token-list" data-chunk={index}>
      {chunk.ids.slice(0, Math.min(77, chunk.used + 2)).map((id, i) => {
        const kind =
          i === 0 && id === view.bosId ? 'start' : i === chunk.used - 1 ? 'end' : i >= chunk.used ? 'pad' : 'word';
        const weight = chunk.weights[i] ?? 1;
        return (
          <li key={i} className={`token ${kind}`} title={`position ${i}${weight !== 1 ? `, weight ${weight}` : ''}`}>
            <span className="token-text">{chunk.tokens[i]}</span>
            <span className="token-id">{id}</span>
            {weight !== 1 ? (
              <span className={`token-weight ${weight > 1 ? 'up' : 'down'}`} data-testid="token-weight">
                ×{weight.toFixed(2)}
              </span>
            ) : null}
          </li>
        );
      })}
      {chunk.used + 2 < 77 ? <li className="token pad more">… {77 - chunk.used - 2} more padding</li> : null}
    </ol>
  );
}

function Tokens() {
  const {
    explore: { tokenizePrompt },
  } = useActions();
  const tokens = useStore((s) => s.tokens);
  const prompt = useStore((s) => s.prompt);
  const syntax = useStore((s) => s.promptSyntax);
  const modelLoaded = useStore((s) => s.model !== null);
  // Follows the prompt as it is typed, once a model (and so its tokenizer) is loaded.
  useEffect(() => {
    if (!modelLoaded) return;
    const timer = setTimeout(() => void tokenizePrompt(), 250);
    return () => clearTimeout(timer);
  }, [prompt, syntax, modelLoaded, tokenizePrompt]);
  if (!tokens) {
    return (
      <button type="button" data-testid="explore-tokenize" onClick={() => void tokenizePrompt()}>
        Show tokens
      </button>
    );
  }
  const { chunks } = tokens;
  const padding = tokens.padId === tokens.eosId ? '<|endoftext|>' : `id ${tokens.padId}`;
  return (
    <div className="tokens">
      <div className="hint" data-testid="token-summary">
        {chunks.length === 1
          ? `“${tokens.text}” → ${chunks[0]!.used} of 77 tokens used, ${77 - chunks[0]!.used} padding (${padding})`
          : `“${tokens.text}” → ${chunks.length} chunks of 77 tokens (A1111's long prompts), encoded one by one and joined: the UNet sees ${77 * chunks.length} tokens of context`}
      </div>
      {chunks.map((chunk, k) => (
        <TokenChunk key={k} chunk={chunk} view={tokens} index={k} />
      ))}
      <div className="field">
        <label htmlFor="token-ids">Ids up to the end token</label>
        <output id="token-ids" data-testid="token-ids" className="mono">
          {chunks.map((c) => c.ids.slice(0, c.used).join(', ')).join(' | ')}
        </output>
      </div>
      {tokens.truncated ? (
        <div className="notice" data-testid="token-truncated">
          Past the 77-token limit, CLIP drops: “{tokens.truncated}”
        </div>
      ) : null}
    </div>
  );
}

function ImageCanvas({ image, testId, label }: { image: ImageData | null; testId: string; label: string }) {
  const ref = useRef<HTMLCanvasElement | null>(null);
  useEffect(() => paintCanvas(ref.current, image), [image]);
  return (
    <figure className="thumb">
      <canvas ref={ref} data-testid={testId} aria-label={label} />
      <figcaption>{label}</figcaption>
    </figure>
  );
}

function RoundTrip() {
  const {
    explore: { runRoundTrip },
  } = useActions();
  const meta = useStore((s) => s.roundTrip);
  const busy = useStore(selectBusy);
  const [images, setImages] = useState(roundTripImages);
  useEffect(() => onRoundTripChange(() => setImages(roundTripImages())), []);
  return (
    <div className="round-trip">
      <button type="button" data-testid="explore-vae" disabled={busy} onClick={() => void runRoundTrip()}>
        Encode and decode the start image (or the last result)
      </button>
      {meta && images ? (
        <>
          <div className="hint" data-testid="latent-shape">
            {meta.source}: {meta.width}×{meta.height} pixels → {meta.channels}×{meta.latentHeight}×{meta.latentWidth}{' '}
            latents (
            {Math.round((meta.width * meta.height * 3) / (meta.channels * meta.latentWidth * meta.latentHeight))}× fewer
            numbers)
          </div>
          <div className="latent-channels">
            {images.channels.map((c, i) => (
              <ImageCanvas key={i} image={c} testId={`latent-channel-${i}`} label={`channel ${i}`} />
            ))}
            <ImageCanvas image={images.reconstruction} testId="vae-reconstruction" label="decoded again" />
          </div>
          <div data-testid="vae-error">
            Reconstruction error: {meta.meanAbsError.toFixed(2)} / 255 mean absolute, PSNR{' '}
            {Number.isFinite(meta.psnr) ? `${meta.psnr.toFixed(1)} dB` : '∞ (identical)'}
          </div>
        </>
      ) : null}
    </div>
  );
}

/** The pipeline's parts made visible: tokens, noise schedule, VAE round trip, and (on the right) the steps. */
export function ExplorePanel() {
  const previewKind = useStore((s) => s.previewKind);
  const previewEvery = useStore((s) => s.previewEvery);
  const setSetting = useStore((s) => s.setSetting);
  return (
    <section className="explore" aria-label="Explore the pipeline" data-testid="explore">
      <h2>1 · Tokens</h2>
      <p className="hint">
        The CLIP tokenizer turns the prompt into 77 ids: a start token, the words ({'</w>'} marks a word end), an end
        token, then padding. With A1111's prompt syntax, a weighted word shows its weight, and a prompt past 75 tokens
        (or with BREAK) becomes several 77-token chunks.
      </p>
      <Tokens />
      <h2>2 · Noise schedule</h2>
      <p className="hint">
        How much of the picture (√ᾱ) and of the noise (√(1−ᾱ)) the latents hold at each training timestep; the scheduler
        visits the marked ones.
      </p>
      <SchedulePlot />
      <h2>3 · VAE round trip</h2>
      <p className="hint">The UNet works on latents 8× smaller per side; the VAE maps pictures to them and back.</p>
      <RoundTrip />
      <h2>4 · Step by step</h2>
      <p className="hint">
        Generate: every few steps the model's current estimate of the finished image is shown; afterwards the slider
        under the image goes back through them.
      </p>
      <div className="row">
        <label className="inline">
          <span>Preview</span>
          <select
            data-testid="preview-kind"
            value={previewKind}
            onChange={(e) => setSetting('previewKind', e.target.value as 'vae' | 'fast')}
          >
            <option value="vae">decoded by the VAE (exact, slower)</option>
            <option value="fast">latents → RGB projection (instant)</option>
          </select>
        </label>
        <label className="inline">
          <span>every</span>
          <input
            data-testid="preview-every"
            type="number"
            min={1}
            max={50}
            value={previewEvery}
            onChange={(e) => setSetting('previewEvery', Math.max(1, Number(e.target.value) || 1))}
            style={{ width: 64 }}
          />
          <span>steps</span>
        </label>
      </div>
    </section>
  );
}
