// Loaded into a REPL session by tests/repl_test.go (.load).
function double(n) {
  return n * 2
}
const loaded = await Promise.resolve(true)
'lib loaded'
