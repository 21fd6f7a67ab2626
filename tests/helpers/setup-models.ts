/** Unit tests run on the tiny model; make it if `npm run models` has not. */
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  if (!existsSync(`${root}public/models/tiny-sd/unet/model.onnx`)) {
    execFileSync(process.execPath, ['--import', 'tsx', 'scripts/make-tiny-models.ts'], { cwd: root, stdio: 'inherit' });
  }
}
