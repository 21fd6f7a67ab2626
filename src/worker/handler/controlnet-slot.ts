/**
 * The ControlNets the worker holds, by the id the page gave each. They outlive a model change (a
 * ControlNet made for the new model's family still guides it; one that is not is refused when a run
 * asks for it) and are released when removed or replaced under the same id.
 */
import { ValidationError } from '../../core/errors';
import type { LoadedControlNet } from '../loading/controlnet-loader';

export class ControlNetSlot {
  private readonly nets = new Map<string, LoadedControlNet>();

  async put(id: string, net: LoadedControlNet): Promise<void> {
    const previous = this.nets.get(id);
    this.nets.set(id, net);
    await previous?.dispose().catch(() => undefined);
  }

  get(id: string): LoadedControlNet {
    const net = this.nets.get(id);
    if (!net) throw new ValidationError('That ControlNet is no longer loaded: load it again.', 'controlnet');
    return net;
  }

  async remove(id: string): Promise<boolean> {
    const net = this.nets.get(id);
    if (!net) return false;
    this.nets.delete(id);
    await net.dispose().catch(() => undefined);
    return true;
  }
}
