// console formatting; console.golden is what Node 20 prints for this file.
console.log('%s|%d|%i|%f|%j|%o|%O|%%|%c', 'str', 42.5, 42.5, '3.5', {a:[1,{b:2}]}, {a:1}, {b:{c:{d:{}}}}, 'css');
console.log('%s', {a:1}, 'extra', 5);
console.log('%d', '0x10', '%s');
console.log({ s: 'x', n: 1, b: true, u: undefined, nl: null, arr: [1, 'two', [3]], f() {}, nested: { a: { b: { c: { d: 1 } } } } });
console.log([undefined, null, -0, 1n, Symbol('s')]);
console.log(new Map([['k', { v: 1 }]]), new Set([1, 'a']));
console.log(Buffer.from('hi'), new Uint8Array([1, 2]));
console.log(new Error('plain').message, [new Date(0)]);
console.log('a\nb', ['a\nb'], "it's");
class Foo { constructor() { this.x = 1; } }
console.log(new Foo(), Object.create(null), [], {});
console.log({ 'key-with-dash': 1, valid_id: 2 });
console.log(function named() {}, () => {}, class K {});
console.log(Promise.resolve(4), 'x'.repeat(3));
