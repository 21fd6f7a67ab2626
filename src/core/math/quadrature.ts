/**
 * Adaptive Gauss-Kronrod (7/15-point) quadrature: what scipy.integrate.quad does for LMS's
 * coefficients, without a lookup table. Exact for polynomials up to degree 22 on each interval.
 */

const XGK = [
  0.9914553711208126, 0.9491079123427585, 0.8648644233597691, 0.7415311855993945, 0.5860872354676911,
  0.4058451513773972, 0.20778495500789848, 0,
];
const WGK = [
  0.022935322010529224, 0.06309209262997856, 0.10479001032225019, 0.14065325971552592, 0.1690047266392679,
  0.19035057806478542, 0.20443294007529889, 0.20948214108472782,
];
const WG = [0.1294849661688697, 0.27970539148927664, 0.3818300505051189, 0.4179591836734694];

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
