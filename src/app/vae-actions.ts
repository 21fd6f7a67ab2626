/**
 * Choosing the VAE models decode with: the catalog's, one added by repo id or folder URL, or a
 * file picked from disk. Nothing downloads here: the next Generate loads the model with it.
 */
import { serializeError } from '../core/errors';
import { vaeFromFile, vaeFromInput } from '../models/vae';
import type { AppStore } from '../store';

export function createVaeActions({ store, say }: { store: AppStore; say: (text: string) => void }) {
  function chooseVae(id: string | null): void {
    store.getState().vaeChosen(id);
  }

  function addVae(text: string): boolean {
    try {
      const vae = vaeFromInput(text);
      store.getState().vaeAdded(vae);
      say(`VAE ${vae.name} chosen: the next Generate loads the model with it.`);
      return true;
    } catch (error) {
      store.getState().vaeFailed(serializeError(error).message);
      return false;
    }
  }

  function addVaeFile(file: File): boolean {
    try {
      const vae = vaeFromFile(file, file.name, String(file.lastModified));
      store.getState().vaeAdded(vae);
      say(`VAE ${file.name} chosen: it is read in place when the model next loads.`);
      return true;
    } catch (error) {
      store.getState().vaeFailed(serializeError(error).message);
      return false;
    }
  }

  return { chooseVae, addVae, addVaeFile };
}

export type VaeActions = ReturnType<typeof createVaeActions>;
