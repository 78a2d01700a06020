#!/usr/bin/env amqpjs
// Loaded by session_test.go (.load).
function twice(n) {
  return n * 2
}
await Promise.resolve()
'loaded'
