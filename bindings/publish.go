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

// payloadView returns the bytes of a payload (docs/api.md §6): a string as
// UTF-8, Buffer, Uint8Array (any typed array), ArrayBuffer or DataView. A
// string's bytes are new (owned true); the other kinds' alias the script's
// memory (owned false) and are only good until the script runs again, so
// a publish that is not written at once copies them.
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
