// alloc-heavy.js — builds and drops large arrays, strings and objects in a
// loop: the live set stays bounded (one round: 100k objects, ~150 MB of Go
// heap under goja) while the script allocates GBs in total, mostly without
// yielding to the event loop. wasm/test/memory.sh runs it on the WebAssembly
// build and checks the node process's peak RSS.
//
//   node wasm/host/bin.mjs --stats wasm/test/alloc-heavy.js [rounds] [yieldEvery]
const rounds = Number(process.argv[2] || 3);
const yieldEvery = Number(process.argv[3] || 10); // rounds between event-loop turns
let checksum = 0;
for (let r = 0; r < rounds; r++) {
  // An array of 100k small objects.
  const objs = [];
  for (let i = 0; i < 100000; i++) objs.push({ i, name: 'item' + i, tags: [i & 7, i & 15] });
  checksum += objs[r % objs.length].i;
  // Strings: 4 MB joined from parts, sliced and upper-cased; a JSON round
  // trip of 20k objects.
  const parts = [];
  for (let i = 0; i < 65536; i++) parts.push('abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz!!');
  const s = parts.join('');
  checksum += s.slice(r, r + 1000000).toUpperCase().length;
  const json = JSON.stringify(objs.slice(0, 20000));
  checksum += JSON.parse(json).length;
  // 64 buffers of 64 KiB, concatenated.
  const bufs = [];
  for (let i = 0; i < 64; i++) bufs.push(Buffer.alloc(64 * 1024, i));
  checksum += Buffer.concat(bufs).length;
  // Let timers and the event loop run now and then, as a real script does
  // between messages.
  if (r % yieldEvery === yieldEvery - 1) await new Promise((resolve) => setTimeout(resolve, 0));
}
console.log('done', rounds, 'rounds, checksum', checksum);
