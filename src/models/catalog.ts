/** Models the app offers. Real hub models arrive with the model-catalog work; the tiny one ships with the app. */
export interface CatalogModel {
  id: string;
  name: string;
  /** Folder in diffusers ONNX layout. */
  baseUrl: string;
  description: string;
  defaults: { width: number; height: number; steps: number; guidanceScale: number };
}

export const TINY_MODEL: CatalogModel = {
  id: 'tiny-sd',
  name: 'Tiny SD (test model, built in)',
  baseUrl: `${import.meta.env.BASE_URL}models/tiny-sd/`,
  description:
    'A few-megabyte model with random weights and the exact inputs and outputs of a real Stable Diffusion export. It makes abstract colour fields, not pictures: use it to try the app with no download.',
  defaults: { width: 512, height: 512, steps: 20, guidanceScale: 7.5 },
};

export const CATALOG: readonly CatalogModel[] = [TINY_MODEL];

export function findModel(id: string): CatalogModel | undefined {
  return CATALOG.find((m) => m.id === id);
}
