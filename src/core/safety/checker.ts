/** What runs the safety checker on a picture: the worker implements it with onnxruntime. */
import type { RgbaImage } from '../image/rgba';
import type { SafetyVerdict } from './verdict';

export interface SafetyChecker {
  /** 'model': the checkpoint's own; 'site': the SD 1.5 checker the site requires, added to a model without one. */
  readonly source: 'model' | 'site';
  /** The site requires it: a request to skip it is not honoured. */
  readonly required: boolean;
  check(image: RgbaImage): Promise<SafetyVerdict>;
}
