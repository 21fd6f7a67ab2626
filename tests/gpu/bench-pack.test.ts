/**
 * `npm run bench:gpu -- --pack DIR`: the packed bench is under 60 MB and runs from a folder with no
 * node_modules beside it, finding Dawn and onnxruntime-web's engine in DIR itself.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { LAVAPIPE_ICD } from '../../scripts/node-gpu/dawn';
import { packBench } from '../../scripts/bench/pack';

const run = promisify(execFile);

describe('the packed GPU bench', () => {
  it('is one script and its binaries, under 60 MB, and runs on its own', async () => {
    // A folder under the system's temp dir: no node_modules up its tree to fall back on.
    const dir = join(mkdtempSync(join(tmpdir(), 'bench-pack-')), 'bench');
    const packed = await packBench(dir);
    expect(packed.files.map((f) => f.path)).toContain('bench.mjs');
    expect(packed.bytes).toBeLessThan(60e6);

    const out = join(dir, 'result.json');
    // The VAE decoder in float16 at 16×16 only: one session and one timed run, the whole path.
    const { stdout } = await run(
      process.execPath,
      [
        join(dir, 'bench.mjs'),
        '--latent',
        '2',
        '--networks',
        'vae_decoder',
        '--precisions',
        'float16',
        '--runs',
        '1',
        '--out',
        out,
      ],
      { cwd: tmpdir(), env: { ...process.env, LATENT_LAVAPIPE: '1', VK_ICD_FILENAMES: LAVAPIPE_ICD } },
    );
    expect(stdout).toContain('written');
    const result = JSON.parse(readFileSync(out, 'utf8')) as {
      adapter: { description: string };
      rows: { network: string; precision: string; medianMs?: number; error?: string }[];
    };
    expect(result.adapter.description).toContain('llvmpipe');
    expect(result.rows).toHaveLength(1);
    expect(result.rows[0]).toMatchObject({ network: 'vae_decoder', precision: 'float16' });
    expect(result.rows[0]!.error).toBeUndefined();
    expect(result.rows[0]!.medianMs).toBeGreaterThan(0);
  });
});
