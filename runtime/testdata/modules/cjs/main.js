// CommonJS: relative require of .js and .json, resolved from the requiring file.
const path = (p) => p.slice(__dirname.length + 1);
const a = require('./lib/a.js');
const a2 = require('./lib/a'); // extension-less: same module, loaded once
const data = require('./data.json');
const b = require('./lib/nested/b');
console.log(a.name, a === a2, a.loads());
console.log(data.list.join(','), data.nested.ok);
console.log(b.name, b.c, b.json);
console.log(path(__filename), path(b.filename));
console.log(require('./lib').index);
