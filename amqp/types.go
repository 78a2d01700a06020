package amqp

import (
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// Properties are the basic-class content properties of a message; publishing
// and receiving use the same fields. Zero values are "absent".
//
// ClusterID is accepted but never sent: amqp091-go has no field for the
// deprecated cluster-id property (RabbitMQ drops it anyway), so it is always
// empty on received messages.
type Properties struct {
	ContentType     string
	ContentEncoding string
	Headers         Table
	DeliveryMode    uint8
	Priority        uint8
	CorrelationID   string
	ReplyTo         string
	Expiration      string
	MessageID       string
	Timestamp       time.Time
	Type            string
	UserID          string
	AppID           string
	ClusterID       string
}

// Publishing is a message to publish.
//
// Body is handed to amqp091-go as is (not copied); the caller must not
// modify it until the publish's done callback has been called.
type Publishing struct {
	Exchange   string
	RoutingKey string
	Mandatory  bool
	Immediate  bool
	Body       []byte
	Properties Properties
}

// Delivery is a message received from a consumer or from Get. Body belongs to
// the receiver: it aliases no buffer that is reused.
type Delivery struct {
	Body         []byte
	ConsumerTag  string
	DeliveryTag  uint64
	Redelivered  bool
	Exchange     string
	RoutingKey   string
	MessageCount int // Get only: messages left in the queue
	Properties   Properties
}

// Return is a message the broker returned (basic.return): a mandatory
// publish that could not be routed.
type Return struct {
	Body       []byte
	Properties Properties
	ReplyCode  int
	ReplyText  string
	Exchange   string
	RoutingKey string
}

// QueueInfo is the result of a queue declaration.
type QueueInfo struct {
	Name          string
	MessageCount  int
	ConsumerCount int
}

// QueueDeclareArgs are the arguments of [Channel.QueueDeclare]. An empty Name
// lets the broker generate one (amq.gen-...).
type QueueDeclareArgs struct {
	Name       string
	Passive    bool
	Durable    bool
	Exclusive  bool
	AutoDelete bool
	NoWait     bool
	Args       Table
}

// ExchangeDeclareArgs are the arguments of [Channel.ExchangeDeclare]. An
// empty Kind means "direct".
type ExchangeDeclareArgs struct {
	Name       string
	Kind       string
	Passive    bool
	Durable    bool
	AutoDelete bool
	NoWait     bool
	Args       Table
}

// ConsumeArgs are the arguments of [Channel.Consume]. An empty Tag gets a
// generated one, "ctag<channel id>.<32 hex digits>" as aioamqp does.
type ConsumeArgs struct {
	Queue     string
	Tag       string
	NoLocal   bool
	NoAck     bool
	Exclusive bool
	NoWait    bool
	Args      Table

	// Prefetch, when > 0, gives this consumer its own prefetch window:
	// basic.qos(prefetch_count=Prefetch, global=false) is sent just before
	// basic.consume, and the channel's previous per-consumer qos (the last
	// Qos with global false, else 0) just after, so that later consumers
	// are not affected. 0..65535.
	Prefetch int
}

// ConsumerHandler receives the events of one consumer. All three methods are
// called from that consumer's pump goroutine, one at a time, and must not
// block (the bindings only post to their event loop). An InlineHandler's
// Delivery is called from the connection's reader goroutine instead.
type ConsumerHandler interface {
	// Delivery is called for each message, in delivery order, and only after
	// Consume's done callback has been called.
	Delivery(d *Delivery)
	// Cancelled is called when the broker cancelled the consumer
	// (consumer_cancel_notify, e.g. its queue was deleted); End follows.
	Cancelled(tag string)
	// End is called exactly once, last: with nil after a client Cancel or
	// when the client closed the channel or connection, with an *Error when
	// the broker cancelled the consumer (KindConsumerCancelled) or the
	// channel or connection was closed by the broker or lost.
	End(err error)
}

// toAMQPPublishing converts p (validated by validatePublishing).
func toAMQPPublishing(p *Publishing, headers amqp091.Table) amqp091.Publishing {
	pr := &p.Properties
	return amqp091.Publishing{
		Headers:         headers,
		ContentType:     pr.ContentType,
		ContentEncoding: pr.ContentEncoding,
		DeliveryMode:    pr.DeliveryMode,
		Priority:        pr.Priority,
		CorrelationId:   pr.CorrelationID,
		ReplyTo:         pr.ReplyTo,
		Expiration:      pr.Expiration,
		MessageId:       pr.MessageID,
		Timestamp:       pr.Timestamp,
		Type:            pr.Type,
		UserId:          pr.UserID,
		AppId:           pr.AppID,
		Body:            p.Body,
	}
}

// validatePublishing checks every short string of p and converts its
// headers. amqp091-go only finds an over-long short string while writing the
// frame, which kills the whole connection, so the check happens here.
func validatePublishing(op string, p *Publishing) (amqp091.Table, *Error) {
	if err := checkShort(op, "exchange", p.Exchange); err != nil {
		return nil, err
	}
	if err := checkShort(op, "routing key", p.RoutingKey); err != nil {
		return nil, err
	}
	pr := &p.Properties
	for _, f := range [...]struct{ name, v string }{
		{"content_type", pr.ContentType},
		{"content_encoding", pr.ContentEncoding},
		{"correlation_id", pr.CorrelationID},
		{"reply_to", pr.ReplyTo},
		{"expiration", pr.Expiration},
		{"message_id", pr.MessageID},
		{"type", pr.Type},
		{"user_id", pr.UserID},
		{"app_id", pr.AppID},
	} {
		if len(f.v) > 255 {
			return nil, invalidf(op, "property %s is longer than 255 bytes", f.name)
		}
	}
	if len(pr.Headers) == 0 {
		return nil, nil
	}
	h, err := toAMQPTable(pr.Headers)
	if err != nil {
		return nil, &Error{Kind: KindInvalid, Op: op, Reason: "headers: " + err.Error(), Err: err}
	}
	return h, nil
}

func checkShort(op, what, s string) *Error {
	if len(s) > 255 {
		return invalidf(op, "%s is longer than 255 bytes", what)
	}
	return nil
}

func convTable(op string, t Table) (amqp091.Table, *Error) {
	at, err := toAMQPTable(t)
	if err != nil {
		return nil, &Error{Kind: KindInvalid, Op: op, Reason: "arguments: " + err.Error(), Err: err}
	}
	return at, nil
}

func fromAMQPDelivery(d *amqp091.Delivery) *Delivery {
	return &Delivery{
		Body:         d.Body,
		ConsumerTag:  d.ConsumerTag,
		DeliveryTag:  d.DeliveryTag,
		Redelivered:  d.Redelivered,
		Exchange:     d.Exchange,
		RoutingKey:   d.RoutingKey,
		MessageCount: int(d.MessageCount),
		Properties: Properties{
			ContentType:     d.ContentType,
			ContentEncoding: d.ContentEncoding,
			Headers:         fromAMQPTable(d.Headers),
			DeliveryMode:    d.DeliveryMode,
			Priority:        d.Priority,
			CorrelationID:   d.CorrelationId,
			ReplyTo:         d.ReplyTo,
			Expiration:      d.Expiration,
			MessageID:       d.MessageId,
			Timestamp:       utcOrZero(d.Timestamp),
			Type:            d.Type,
			UserID:          d.UserId,
			AppID:           d.AppId,
		},
	}
}

func fromAMQPReturn(r *amqp091.Return) *Return {
	return &Return{
		Body:       r.Body,
		ReplyCode:  int(r.ReplyCode),
		ReplyText:  r.ReplyText,
		Exchange:   r.Exchange,
		RoutingKey: r.RoutingKey,
		Properties: Properties{
			ContentType:     r.ContentType,
			ContentEncoding: r.ContentEncoding,
			Headers:         fromAMQPTable(r.Headers),
			DeliveryMode:    r.DeliveryMode,
			Priority:        r.Priority,
			CorrelationID:   r.CorrelationId,
			ReplyTo:         r.ReplyTo,
			Expiration:      r.Expiration,
			MessageID:       r.MessageId,
			Timestamp:       utcOrZero(r.Timestamp),
			Type:            r.Type,
			UserID:          r.UserId,
			AppID:           r.AppId,
		},
	}
}

func utcOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}
