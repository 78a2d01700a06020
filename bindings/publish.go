package bindings

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/dop251/goja"

	"github.com/amqpjs/amqpjs/amqp"
	"github.com/amqpjs/amqpjs/runtime"
)

// publish implements publish (waitConfirm: resolves on the broker's ack in
// confirm mode) and basic_publish (resolves once written).
func (x *channel) publish(call goja.FunctionCall, s *sig, waitConfirm bool) goja.Value {
	testPanic("publish")
	vm := x.m.rt.VM()
	var a []goja.Value
	var pub *amqp.Publishing
	if sc := &x.pubBuf; !sc.busy && len(s.params) <= len(sc.args) {
		// The channel's scratch: no allocation for the arguments and the
		// Publishing (TryPublish keeps neither). A publish made while this
		// one parses (from a getter of its options) allocates its own.
		sc.busy = true
		defer sc.release()
		a = sc.args[:len(s.params)]
		if aerr := s.parseInto(vm, call.Arguments, a); aerr != nil {
			panic(throwArg(vm, aerr))
		}
		pub = &sc.pub
	} else {
		a = s.parse(vm, call.Arguments)
		pub = new(amqp.Publishing)
	}
	body, owned, err := payloadView(vm, a[0])
	if err != nil {
		panic(newJSError(vm, "TypeError", s.method+": "+err.Error(), "ERR_INVALID_ARG_TYPE"))
	}
	*pub = amqp.Publishing{
		Exchange: a[1].String(), RoutingKey: a[2].String(),
		Mandatory: boolean(a[4], false), Immediate: boolean(a[5], false), Body: body,
	}
	if v := a[3]; v != nil && !goja.IsNull(v) {
		if perr := propertiesFromJS(vm, v.(*goja.Object), &pub.Properties, s.method); perr != nil {
			panic(throwArg(vm, perr))
		}
	}
	timeout := seconds(a[6])
	confirmed := waitConfirm && x.confirmOn
	fast := timeout <= 0 && x.fastOK()
	am := x.m.meter()
	var sent time.Time
	if am != nil {
		sent = am.publishing(pub)
	}
	if fast && !confirmed {
		// Settled once written, which happens now: no promise to keep.
		if handled, _, err := x.ch.TryPublish(pub, false, nil); handled {
			if err != nil {
				p, res := x.m.loop.NewPromise()
				x.settleNow(vm, res, err)
				return vm.ToValue(p)
			}
			x.flushSoon()
			return x.resolvedNull(vm)
		}
	}
	// A publish that settles when written holds back later fast calls
	// until it is settled; one that waits for its confirm does not.
	p, res, ctx, settle := x.opRes(timeout, !confirmed)
	done := func(err error) { settle(err, nil) }
	if am != nil && confirmed {
		done = am.confirming(sent, done)
	}
	if fast && confirmed {
		handled, pending, err := x.ch.TryPublish(pub, true, done)
		if handled {
			if err == nil {
				x.flushSoon()
			}
			if !pending {
				// TryPublish keeps done only when pending.
				x.settleNow(vm, res, err)
			}
			return p
		}
	}
	if pub == &x.pubBuf.pub {
		// The queued path keeps pub until it is written.
		kept := *pub
		pub = &kept
	}
	if !owned {
		pub.Body = append(make([]byte, 0, len(body)), body...)
	}
	x.ch.Publish(ctx, pub, waitConfirm, done)
	return p
}

// pubScratch is a channel's reusable space for publish's arguments and
// Publishing. Loop only.
type pubScratch struct {
	busy bool
	args [7]goja.Value // publishSig's parameters
	pub  amqp.Publishing
}

// release empties the scratch (it holds no script value, body or headers
// once the publish is made) and frees it for the next publish.
func (sc *pubScratch) release() {
	clear(sc.args[:])
	sc.pub = amqp.Publishing{}
	sc.busy = false
}

// payloadBytes copies the payload of docs/api.md §6 into a new byte slice: a
// string as UTF-8, Buffer, Uint8Array (any typed array), ArrayBuffer or
// DataView. The copy keeps the message intact if the script reuses its
// buffer before the frames are written.
func payloadBytes(vm *goja.Runtime, v goja.Value) ([]byte, error) {
	b, owned, err := payloadView(vm, v)
	if err == nil && !owned {
		b = append(make([]byte, 0, len(b)), b...)
	}
	return b, err
}

// payloadView is payloadBytes without the copy of a Buffer, typed array,
// ArrayBuffer or DataView: the slice aliases the script's memory (owned
// false) and is only good until the script runs again.
func payloadView(vm *goja.Runtime, v goja.Value) (b []byte, owned bool, err error) {
	if goja.IsString(v) {
		return []byte(v.String()), true, nil
	}
	if o, ok := v.(*goja.Object); ok {
		if b, ok := runtime.BytesOf(vm, o); ok {
			return b, false, nil
		}
	}
	return nil, false, fmt.Errorf("parameter 'payload' must be a string, Buffer, Uint8Array, ArrayBuffer or DataView, got %s", describe(v))
}

// propertiesFromJS fills p from a plain object of docs/api.md §6's property
// names. Unknown names and wrong types are TypeErrors; out-of-range numbers
// RangeErrors. Loop only.
func propertiesFromJS(vm *goja.Runtime, o *goja.Object, p *amqp.Properties, method string) *argError {
	for _, k := range o.Keys() {
		if !knownProperty[k] {
			return &argError{code: "ERR_INVALID_ARG_VALUE", msg: fmt.Sprintf("%s: unknown property '%s' (expected one of: %s)", method, k, propertyNames)}
		}
		v := o.Get(k)
		if goja.IsUndefined(v) || goja.IsNull(v) {
			continue
		}
		typeErr := func(want string) *argError {
			return &argError{code: "ERR_INVALID_ARG_TYPE", msg: fmt.Sprintf("%s: property '%s' must be %s, got %s", method, k, want, describe(v))}
		}
		strVal := func(dst *string) *argError {
			if !goja.IsString(v) {
				return typeErr("a string")
			}
			s := v.String()
			if len(s) > 255 {
				return &argError{rangeErr: true, code: "ERR_OUT_OF_RANGE", msg: fmt.Sprintf("%s: property '%s' is longer than 255 bytes", method, k)}
			}
			*dst = s
			return nil
		}
		var err *argError
		switch k {
		case "content_type":
			err = strVal(&p.ContentType)
		case "content_encoding":
			err = strVal(&p.ContentEncoding)
		case "correlation_id":
			err = strVal(&p.CorrelationID)
		case "reply_to":
			err = strVal(&p.ReplyTo)
		case "message_id":
			err = strVal(&p.MessageID)
		case "type":
			err = strVal(&p.Type)
		case "user_id":
			err = strVal(&p.UserID)
		case "app_id":
			err = strVal(&p.AppID)
		case "cluster_id":
			err = strVal(&p.ClusterID)
		case "expiration":
			if goja.IsString(v) {
				err = strVal(&p.Expiration)
			} else if x, ok := number(v); ok {
				if x < 0 || x != math.Trunc(x) || x > 1<<53 {
					return &argError{rangeErr: true, code: "ERR_OUT_OF_RANGE", msg: fmt.Sprintf("%s: property 'expiration' must be a non-negative integer of milliseconds, got %v", method, v)}
				}
				p.Expiration = strconv.FormatInt(int64(x), 10)
			} else {
				err = typeErr("a string or a non-negative integer (milliseconds)")
			}
		case "delivery_mode":
			n, ok := number(v)
			if !ok {
				return typeErr("1 or 2")
			}
			if n != 1 && n != 2 {
				return &argError{rangeErr: true, code: "ERR_OUT_OF_RANGE", msg: fmt.Sprintf("%s: property 'delivery_mode' must be 1 (transient) or 2 (persistent), got %v", method, n)}
			}
			p.DeliveryMode = uint8(n)
		case "priority":
			n, ok := number(v)
			if !ok {
				return typeErr("an integer from 0 to 255")
			}
			if n != math.Trunc(n) || n < 0 || n > 255 {
				return &argError{rangeErr: true, code: "ERR_OUT_OF_RANGE", msg: fmt.Sprintf("%s: property 'priority' must be an integer from 0 to 255, got %v", method, n)}
			}
			p.Priority = uint8(n)
		case "timestamp":
			o, ok := v.(*goja.Object)
			if !ok || o.ClassName() != "Date" {
				return typeErr("a Date")
			}
			t, ok := o.Export().(time.Time)
			if !ok {
				return typeErr("a Date")
			}
			p.Timestamp = t
		case "headers":
			t, terr := tableFromJS(vm, v, method+": properties.headers")
			if terr != nil {
				return &argError{code: "ERR_INVALID_ARG_TYPE", msg: terr.Error()}
			}
			p.Headers = t
		default:
			return &argError{code: "ERR_INVALID_ARG_VALUE", msg: fmt.Sprintf("%s: unknown property '%s' (expected one of: %s)", method, k, propertyNames)}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

var knownProperty = map[string]bool{
	"content_type": true, "content_encoding": true, "headers": true, "delivery_mode": true, "priority": true,
	"correlation_id": true, "reply_to": true, "expiration": true, "message_id": true, "timestamp": true,
	"type": true, "user_id": true, "app_id": true, "cluster_id": true,
}

const propertyNames = "content_type, content_encoding, headers, delivery_mode, priority, correlation_id, reply_to, expiration, message_id, timestamp, type, user_id, app_id, cluster_id"

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
	vm      *goja.Runtime
	p       *amqp.Properties
	cache   map[string]goja.Value // converted or assigned values
	deleted map[string]bool
	extra   []string // keys the script added, in order
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
	if v.cache == nil {
		v.cache = make(map[string]goja.Value, 2)
	}
	if _, ok := v.cache[key]; !ok && !knownProperty[key] {
		v.extra = append(v.extra, key)
	}
	delete(v.deleted, key)
	v.cache[key] = val
	return true
}

func (v *propsView) Has(key string) bool {
	if _, ok := v.cache[key]; ok {
		return true
	}
	return knownProperty[key] && !v.deleted[key]
}

func (v *propsView) Delete(key string) bool {
	if v.Has(key) {
		delete(v.cache, key)
		if v.deleted == nil {
			v.deleted = map[string]bool{}
		}
		v.deleted[key] = true
		for i, k := range v.extra {
			if k == key {
				v.extra = append(v.extra[:i], v.extra[i+1:]...)
				delete(v.deleted, key) // an added key is simply gone
				break
			}
		}
	}
	return true
}

func (v *propsView) Keys() []string {
	keys := make([]string, 0, len(propertyOrder)+len(v.extra))
	for _, k := range propertyOrder {
		if !v.deleted[k] {
			keys = append(keys, k)
		}
	}
	return append(keys, v.extra...)
}
