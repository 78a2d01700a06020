export interface Point { x: number; y: number }
export type Shape = { kind: 'square'; side: number } | { kind: 'circle'; r: number };
export function add(a: number, b: number): number { return a + b; }
export function area(s: Shape): number {
  switch (s.kind) {
    case 'square': return s.side * s.side;
    case 'circle': return Math.PI * s.r * s.r;
  }
}
