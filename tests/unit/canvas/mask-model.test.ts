import { describe, expect, it } from 'vitest';
import { MaskModel } from '../../../src/canvas/mask-model';

const painted = (m: MaskModel) => m.data.filter((v) => v === 255).length;

describe('mask painting model', () => {
  it('draws a continuous line between two far-apart points (a fast stroke)', () => {
    const m = new MaskModel(100, 50);
    m.beginStroke('brush', 2, { x: 5, y: 25, pressure: 1 });
    m.extendStroke({ x: 95, y: 25, pressure: 1 });
    m.endStroke();
    for (let x = 4; x < 96; x++) expect(m.data[25 * 100 + x], `x=${x}`).toBe(255);
    expect(m.data[10 * 100 + 50]).toBe(0);
  });

  it('keeps one undo entry per stroke, with redo, and drops redo after a new stroke', () => {
    const m = new MaskModel(40, 40);
    m.beginStroke('brush', 3, { x: 10, y: 10, pressure: 1 });
    for (let x = 11; x < 30; x++) m.extendStroke({ x, y: 10, pressure: 1 });
    m.endStroke();
    const after = m.data.slice();
    expect(painted(m)).toBeGreaterThan(50);
    expect(m.undo()).toBe(true);
    expect(painted(m)).toBe(0);
    expect(m.undo()).toBe(false);
    expect(m.redo()).toBe(true);
    expect(m.data).toEqual(after);
    m.beginStroke('eraser', 3, { x: 20, y: 10, pressure: 1 });
    m.endStroke();
    expect(painted(m)).toBeLessThan(after.filter((v) => v === 255).length);
    expect(m.canRedo).toBe(false);
  });

  it('scales the brush with pen pressure', () => {
    const light = new MaskModel(50, 50);
    light.beginStroke('brush', 10, { x: 25, y: 25, pressure: 0.2 });
    const firm = new MaskModel(50, 50);
    firm.beginStroke('brush', 10, { x: 25, y: 25, pressure: 1 });
    expect(painted(light)).toBeLessThan(painted(firm) / 4);
  });

  it('inverts, clears and loads as undoable steps, and follows a resize', () => {
    const m = new MaskModel(10, 10);
    m.invert();
    expect(painted(m)).toBe(100);
    m.clear();
    expect(m.isEmpty).toBe(true);
    m.undo();
    expect(painted(m)).toBe(100);
    const half = new Uint8Array(20 * 20);
    half.fill(255, 0, 200);
    m.load(half, 20, 20); // another size: resized to the mask's own
    expect(painted(m)).toBe(50);
    m.resize(20, 10);
    expect(m.width).toBe(20);
    expect(painted(m)).toBe(100);
    expect(m.canUndo).toBe(false);
  });
});
