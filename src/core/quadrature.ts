/**
 * Adaptive Gauss-Kronrod (7/15-point) quadrature: what scipy.integrate.quad does for LMS's
 * coefficients, without a lookup table. Exact for polynomials up to degree 22 on each interval.
 */

const XGK = [
  0.991455371120812639206854697526329, 0.949107912342758524526189684047851, 0.864864423359769072789712788640926,
  0.741531185599394439863864773280788, 0.58608723546769113029414483825873, 0.405845151377397166906606412076961,
  0.207784955007898467600689403773245, 0,
];
const WGK = [
  0.02293532201052922496373200805897, 0.063092092629978553290700663189204, 0.104790010322250183839876322541518,
  0.140653259715525918745189590510238, 0.16900472663926790282658342659855, 0.190350578064785409913256402421014,
  0.204432940075298892414161999234649, 0.209482141084727828012999174891714,
];
const WG = [0.129484966168869693270611432679082, 0.27970539148927666790146777142378, 0.381830050505118944950369775488975, 0.417959183673469387755102040816327];

function kronrod(f: (x: number) => number, a: number, b: number): [value: number, error: number] {
  const center = (a + b) / 2;
  const half = (b - a) / 2;
  const fc = f(center);
  let kronrodSum = fc * WGK[7]!;
  let gaussSum = fc * WG[3]!;
  for (let j = 0; j < 7; j++) {
    const dx = half * XGK[j]!;
    const pair = f(center - dx) + f(center + dx);
    kronrodSum += WGK[j]! * pair;
    // Odd Kronrod nodes (1, 3, 5) are the Gauss nodes.
    if (j % 2 === 1) gaussSum += WG[(j - 1) / 2]! * pair;
  }
  return [kronrodSum * half, Math.abs((kronrodSum - gaussSum) * half)];
}

export function integrate(f: (x: number) => number, a: number, b: number, relTol = 1e-10, depth = 0): number {
  const [value, error] = kronrod(f, a, b);
  if (error <= Math.max(relTol * Math.abs(value), 1e-300) || depth >= 30) return value;
  const mid = (a + b) / 2;
  return integrate(f, a, mid, relTol, depth + 1) + integrate(f, mid, b, relTol, depth + 1);
}
