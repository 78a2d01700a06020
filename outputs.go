package main

// The --out kinds that live in packages of their own (registered with
// metrics.OpenOutput when imported).
import _ "github.com/amqpjs/amqpjs/runtime/metrics/promwrite" // prometheus=URL
