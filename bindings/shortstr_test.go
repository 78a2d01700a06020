package bindings

import (
	"strings"
	"testing"
)

// TestShortStringArgs: names that AMQP sends as short strings are checked
// at the call — over 255 bytes (not characters) is a RangeError.
func TestShortStringArgs(t *testing.T) {
	runArgCases(t, []argCase{
		{name: "queue name of 255 bytes", sig: queueDeclareSig, args: `'q'.repeat(255)`, want: `queue_name="` + strings.Repeat("q", 255) + `"`},
		{name: "queue name of 256 bytes", sig: queueDeclareSig, args: `'q'.repeat(256)`, rangeErr: true, code: "ERR_OUT_OF_RANGE",
			err: "queue_declare: parameter 'queue_name' must be at most 255 bytes long (an AMQP short string), got 256 bytes"},
		{name: "routing key of 128 two-byte characters", sig: publishSig, args: `'x', '', 'é'.repeat(128)`, rangeErr: true, code: "ERR_OUT_OF_RANGE",
			err: "publish: parameter 'routing_key' must be at most 255 bytes long (an AMQP short string), got 256 bytes"},
		{name: "consumer tag by name", sig: basicCancelSig, args: `{ consumer_tag: 't'.repeat(300) }`, rangeErr: true, code: "ERR_OUT_OF_RANGE",
			err: "basic_cancel: parameter 'consumer_tag' must be at most 255 bytes long (an AMQP short string), got 300 bytes"},
		{name: "reply text", sig: channelCloseSig, args: `200, 'r'.repeat(256)`, rangeErr: true, code: "ERR_OUT_OF_RANGE",
			err: "close: parameter 'reply_text' must be at most 255 bytes long (an AMQP short string), got 256 bytes"},
		{name: "payload is no short string", sig: publishSig, args: `'p'.repeat(1000), '', ''`, want: `payload="` + strings.Repeat("p", 1000) + `" exchange_name="" routing_key=""`},
	})
}
