package bindings

import (
	"github.com/dop251/goja"
	"github.com/dop251/goja_nodejs/buffer"

	"github.com/amqpjs/amqpjs/amqp"
)

// The JS objects of a received message (docs/api.md §6), made for each
// delivery to a consumer callback (basic_get's message and a returned
// message use the properties view too): the body as a Buffer, and the
// envelope and properties as lazy views (goja.DynamicObject) that behave as
// plain objects.

// body returns a delivery's body as a Buffer (the Buffer API is looked up
// once per consumer). Loop only.
func (c *consumer) body(vm *goja.Runtime, b []byte) goja.Value {
	if b == nil {
		b = []byte{}
	}
	if c.bufAPI == nil {
		c.bufAPI = buffer.GetApi(vm)
	}
	if c.bufAPI == nil {
		return newBuffer(vm, b)
	}
	return c.bufAPI.WrapBytes(b)
}

// envelope returns a delivery's envelope (docs/api.md §6): consumer_tag,
// delivery_tag, exchange_name, routing_key, is_redeliver. Like properties,
// it is a lazy view that behaves as a plain object (a field becomes a JS
// value when read; assignment, delete, Object.keys and JSON work): five
// property insertions per delivery would be a large share of its dispatch.
// Loop only.
func envelope(vm *goja.Runtime, d *amqp.Delivery) *goja.Object {
	return vm.NewDynamicObject(&envView{vm: vm, d: d})
}

var envelopeKeys = []string{"consumer_tag", "delivery_tag", "exchange_name", "routing_key", "is_redeliver"}

// envView is the goja.DynamicObject behind an envelope. loop-owned.
type envView struct {
	vm *goja.Runtime
	d  *amqp.Delivery
	viewEdits
}

func isEnvelopeKey(k string) bool {
	switch k {
	case "consumer_tag", "delivery_tag", "exchange_name", "routing_key", "is_redeliver":
		return true
	}
	return false
}

func (v *envView) Get(key string) goja.Value {
	if val, ok := v.cache[key]; ok {
		return val
	}
	if v.deleted[key] {
		return nil
	}
	d := v.d
	switch key {
	case "consumer_tag":
		return v.vm.ToValue(d.ConsumerTag)
	case "delivery_tag":
		return v.vm.ToValue(d.DeliveryTag)
	case "exchange_name":
		return v.vm.ToValue(d.Exchange)
	case "routing_key":
		return v.vm.ToValue(d.RoutingKey)
	case "is_redeliver":
		return v.vm.ToValue(d.Redelivered)
	}
	return nil
}

func (v *envView) Set(key string, val goja.Value) bool {
	return v.set(key, val, isEnvelopeKey(key))
}
func (v *envView) Has(key string) bool    { return v.has(key, isEnvelopeKey(key)) }
func (v *envView) Delete(key string) bool { return v.delete(key, isEnvelopeKey(key)) }
func (v *envView) Keys() []string         { return v.keys(envelopeKeys) }

// propertiesToJS builds the properties object of a received message: every
// field present, absent ones null. The object is a lazy view of p: a field
// becomes a JS value the first time it is read (then cached, so headers
// stays the same object), which keeps delivery dispatch cheap when a
// callback reads one or two properties. It behaves as a plain object:
// Object.keys, JSON.stringify, util.inspect, assignment and delete work.
// Loop only.
func propertiesToJS(vm *goja.Runtime, p *amqp.Properties) *goja.Object {
	return vm.NewDynamicObject(&propsView{vm: vm, p: p})
}

// propertyOrder is the order of docs/api.md §6 (and of Object.keys).
var propertyOrder = []string{
	"content_type", "content_encoding", "headers", "delivery_mode", "priority", "correlation_id", "reply_to",
	"expiration", "message_id", "timestamp", "type", "user_id", "app_id", "cluster_id",
}

// propsView is the goja.DynamicObject behind a received message's
// properties. loop-owned.
type propsView struct {
	vm *goja.Runtime
	p  *amqp.Properties
	viewEdits
}

func (v *propsView) Get(key string) goja.Value {
	if val, ok := v.cache[key]; ok {
		return val
	}
	if v.deleted[key] || !knownProperty[key] {
		return nil
	}
	val := v.convert(key)
	if key == "headers" || key == "timestamp" {
		// Objects keep their identity across reads.
		if v.cache == nil {
			v.cache = make(map[string]goja.Value, 2)
		}
		v.cache[key] = val
	}
	return val
}

func (v *propsView) convert(key string) goja.Value {
	p, vm := v.p, v.vm
	str := func(s string) goja.Value {
		if s == "" {
			return goja.Null()
		}
		return vm.ToValue(s)
	}
	switch key {
	case "content_type":
		return str(p.ContentType)
	case "content_encoding":
		return str(p.ContentEncoding)
	case "headers":
		if p.Headers == nil {
			return goja.Null()
		}
		return tableToJS(vm, p.Headers)
	case "delivery_mode":
		if p.DeliveryMode == 0 {
			return goja.Null()
		}
		return vm.ToValue(p.DeliveryMode)
	case "priority":
		if p.Priority == 0 {
			return goja.Null()
		}
		return vm.ToValue(p.Priority)
	case "correlation_id":
		return str(p.CorrelationID)
	case "reply_to":
		return str(p.ReplyTo)
	case "expiration":
		return str(p.Expiration)
	case "message_id":
		return str(p.MessageID)
	case "timestamp":
		if p.Timestamp.IsZero() {
			return goja.Null()
		}
		d, err := vm.New(vm.Get("Date"), vm.ToValue(p.Timestamp.UnixMilli()))
		if err != nil {
			return goja.Null()
		}
		return d
	case "type":
		return str(p.Type)
	case "user_id":
		return str(p.UserID)
	case "app_id":
		return str(p.AppID)
	case "cluster_id":
		return str(p.ClusterID)
	}
	return nil
}

func (v *propsView) Set(key string, val goja.Value) bool {
	return v.set(key, val, knownProperty[key])
}
func (v *propsView) Has(key string) bool    { return v.has(key, knownProperty[key]) }
func (v *propsView) Delete(key string) bool { return v.delete(key, knownProperty[key]) }
func (v *propsView) Keys() []string         { return v.keys(propertyOrder) }

// viewEdits is what the script did to a lazy view (an envelope or the
// properties): the values it assigned (and, for the properties, the
// objects converted, which keep their identity), the view's own keys it
// deleted, and the keys it added, in order. The view's own keys are read
// from the message until assigned or deleted. known says whether a key is
// one of the view's own. loop-owned.
type viewEdits struct {
	cache   map[string]goja.Value
	deleted map[string]bool
	extra   []string
}

func (e *viewEdits) set(key string, val goja.Value, known bool) bool {
	if e.cache == nil {
		e.cache = make(map[string]goja.Value, 2)
	}
	if _, ok := e.cache[key]; !ok && !known {
		e.extra = append(e.extra, key)
	}
	delete(e.deleted, key)
	e.cache[key] = val
	return true
}

func (e *viewEdits) has(key string, known bool) bool {
	if _, ok := e.cache[key]; ok {
		return true
	}
	return known && !e.deleted[key]
}

func (e *viewEdits) delete(key string, known bool) bool {
	if !e.has(key, known) {
		return true
	}
	delete(e.cache, key)
	for i, k := range e.extra {
		if k == key {
			e.extra = append(e.extra[:i], e.extra[i+1:]...)
			return true
		}
	}
	if e.deleted == nil {
		e.deleted = map[string]bool{}
	}
	e.deleted[key] = true
	return true
}

// keys lists the view's own keys (order) not deleted, then the added ones.
func (e *viewEdits) keys(order []string) []string {
	keys := make([]string, 0, len(order)+len(e.extra))
	for _, k := range order {
		if !e.deleted[k] {
			keys = append(keys, k)
		}
	}
	return append(keys, e.extra...)
}
