#!/usr/bin/env amqpjs
// Loaded by session_test.go (.load).
const { factor } = require('./libdep')
function twice(n) {
  return n * factor
}
await Promise.resolve()
'loaded'
