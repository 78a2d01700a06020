interface I { a: number }
const v: I = { a: 1 };
const w = v.a as ;
