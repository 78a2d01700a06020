import { add, Shape, area } from './geometry.ts';
import type { Point } from './geometry.ts';

interface Named { name: string; }
enum Color { Red = 'red', Green = 'green' }

function describe<T extends Named>(x: T, extra?: number): string {
  return `${x.name}:${extra ?? 'none'}`;
}

const p: Point = { x: 1, y: 2 };
const sq: Shape = { kind: 'square', side: 3 };
console.log(add(p.x, p.y), area(sq), Color.Green, describe({ name: 'n' }), describe({ name: 'm' }, 4));
class Box<T> {
  constructor(private readonly value: T) {}
  get(): T { return this.value; }
}
console.log(new Box<string>('boxed').get());
