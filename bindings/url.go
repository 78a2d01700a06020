package bindings

import "github.com/amqpjs/amqpjs/amqp"

// ConnectDefaults are connect()'s defaults taken from --url / AMQP_URL, or
// the parsed parts of a from_url() URL (amqp.ParseURL). Nil pointers mean
// "not given".
type ConnectDefaults = amqp.URL

// builtinDefaults are aioamqp's defaults, which are the URL spec's.
func builtinDefaults() ConnectDefaults { return amqp.DefaultURL() }

// DefaultsFromURL parses the --url / AMQP_URL value; "" gives nil (aioamqp's
// defaults apply).
func DefaultsFromURL(raw string) (*ConnectDefaults, error) {
	if raw == "" {
		return nil, nil
	}
	d, err := amqp.ParseURL(raw)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// RedactURL is amqp.RedactURL, for the CLI's messages.
func RedactURL(raw string) string { return amqp.RedactURL(raw) }
