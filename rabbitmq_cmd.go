package main

import (
	"github.com/spf13/pflag"

	"github.com/amqpjs/amqpjs/bindings"
	"github.com/amqpjs/amqpjs/internal/mgmt"
)

// brokerMetricsUsage is --broker-metrics's help.
const brokerMetricsUsage = "scenario: sample these queues from the management API into rabbitmq_queue_messages, rabbitmq_queue_messages_unacked, rabbitmq_queue_consumers (tag queue) and rabbitmq_node_mem_used: `QUEUES`, names and /patterns/ separated by commas, e.g. 'jobs,/^load\\./'; replaces options.rabbitmq.queues (interval from options.rabbitmq, else 1s)"

// addManagementFlag adds --management-url.
func addManagementFlag(fs *pflag.FlagSet) *string {
	return fs.String("management-url", "", "the RabbitMQ management API (`URL`) of require('amqpjs/rabbitmq') and broker metrics, e.g. http://user:pass@host:15672; default http://HOST:15672 with the AMQP URL's host, user and password")
}

// managementConfig is the management API for the AMQP URL (--url /
// AMQP_URL; an invalid one is left for amqpjs.New to report) and
// --management-url, checked.
func managementConfig(amqpURL, rawURL string) (mgmt.Config, error) {
	defaults, err := bindings.DefaultsFromURL(amqpURL)
	if err != nil {
		defaults = nil
	}
	cfg := bindings.ManagementConfig(defaults, rawURL)
	c, err := mgmt.New(cfg)
	if err != nil {
		return cfg, err
	}
	c.Close()
	return cfg, nil
}
