package bindings

// RabbitMQModuleName is the module of the broker's own view: RabbitMQ's
// management HTTP API (docs/api.md §10; rabbitmq.go). It is not in
// WebAssembly builds (rabbitmq_wasm.go).
const RabbitMQModuleName = "amqpjs/rabbitmq"
