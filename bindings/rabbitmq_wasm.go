//go:build wasm

package bindings

// registerRabbitMQ does nothing in WebAssembly builds: amqpjs/rabbitmq is
// not there. A browser page cannot call the management API of another
// origin without CORS, and net/http would add 2.5 MB to the module.
func registerRabbitMQ(*module) {}
