package amqpjs_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/amqpjs/amqpjs/pkg/amqpjs"
)

// Running a script: here a TypeScript source string; RunFile runs a file the
// same way.
func Example() {
	rt, err := amqpjs.New(amqpjs.Options{
		Stdout: os.Stdout,
		Args:   []string{"world"},
	})
	if err != nil {
		panic(err)
	}
	err = rt.RunSource(context.Background(), "hello.ts", `
		const who: string = process.argv[2]
		const later = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))
		await later(10)
		console.log(`+"`hello, ${who}`"+`)
	`)
	fmt.Println("exit code:", amqpjs.ExitCode(err))
	// Output:
	// hello, world
	// exit code: 0
}

// A host module whose async function is settled from a goroutine: the
// script awaits it like any promise.
func ExampleRuntime_RegisterModule() {
	rt, _ := amqpjs.New(amqpjs.Options{Stdout: os.Stdout})
	var mu sync.Mutex // the host's own state, guarded as usual
	stock := map[string]int{"bolts": 12, "nuts": 0}
	err := rt.RegisterModule("inventory", func(m *amqpjs.Module) error {
		// reserve(item, n) → Promise<number>: what is left.
		return m.Func("reserve", func(c *amqpjs.Call) (any, error) {
			item, ok := c.Arg(0).(string)
			n, _ := c.Arg(1).(int64)
			if !ok {
				return nil, amqpjs.NewTypeError("reserve: parameter 'item' must be a string")
			}
			p := c.NewPromise()
			go func() { // the slow part runs off the loop
				time.Sleep(10 * time.Millisecond)
				mu.Lock()
				defer mu.Unlock()
				if stock[item] < int(n) {
					p.Reject(fmt.Errorf("only %d %s left", stock[item], item))
					return
				}
				stock[item] -= int(n)
				p.Resolve(stock[item])
			}()
			return p, nil
		})
	})
	if err != nil {
		panic(err)
	}
	err = rt.RunSource(context.Background(), "main.mjs", `
		import { reserve } from 'inventory'
		console.log('bolts left:', await reserve('bolts', 5))
		try {
			await reserve('nuts', 1)
		} catch (e) {
			console.log(e.name + ':', e.message)
		}
	`)
	fmt.Println("error:", err)
	// Output:
	// bolts left: 7
	// Error: only 0 nuts left
	// error: <nil>
}

// Cancelling a running scenario: the context ends the script wherever it
// is (here, a setInterval that would run forever) and closes its
// connections.
func ExampleRuntime_RunSource_cancel() {
	rt, _ := amqpjs.New(amqpjs.Options{Stdout: os.Stdout})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	err := rt.RunSource(ctx, "forever.js", `
		console.log('scenario started')
		let ticks = 0
		setInterval(() => { ticks++ }, 10)
	`)
	var ie *amqpjs.InterruptedError
	fmt.Println("interrupted:", errors.As(err, &ie), errors.Is(err, context.Canceled))
	fmt.Println("exit code:", amqpjs.ExitCode(err))
	// Output:
	// scenario started
	// interrupted: true true
	// exit code: 130
}

// A live runtime: start it, evaluate code in it, close it.
func ExampleRuntime_Eval() {
	rt, _ := amqpjs.New(amqpjs.Options{})
	ctx := context.Background()
	if err := rt.Start(ctx); err != nil {
		panic(err)
	}
	defer rt.Close()
	_, _ = rt.Eval(ctx, "const seen = new Set(['a', 'b'])")
	v, _ := rt.Eval(ctx, "seen.add('c'); seen.size")
	fmt.Println(v)
	v, _ = rt.Eval(ctx, "new Promise(resolve => setTimeout(resolve, 5, [...seen].join('')))")
	fmt.Println(v)
	_, err := rt.Eval(ctx, "seen.nope()")
	var se *amqpjs.ScriptError
	if errors.As(err, &se) {
		fmt.Println(se.Name+":", se.Message)
	}
	// Output:
	// 3
	// abc
	// TypeError: Object has no member 'nope'
}

// Errors are typed; ExitCode maps them as `amqpjs run` does.
func ExampleExitCode() {
	for _, src := range []string{
		"console.log('fine')",
		"process.exit(3)",
		"throw new RangeError('too far')",
		"let x = ;",
	} {
		rt, _ := amqpjs.New(amqpjs.Options{Stdout: os.Stdout})
		err := rt.RunSource(context.Background(), "main.js", src)
		var se *amqpjs.ScriptError
		var syn *amqpjs.SyntaxError
		switch {
		case errors.As(err, &se):
			fmt.Println("script error:", se.Name, se.Message)
		case errors.As(err, &syn):
			fmt.Printf("syntax error at line %d, column %d: %s\n", syn.Line, syn.Column+1, syn.Message)
		}
		fmt.Println("exit code:", amqpjs.ExitCode(err))
	}
	// Output:
	// fine
	// exit code: 0
	// exit code: 3
	// script error: RangeError too far
	// exit code: 1
	// syntax error at line 1, column 9: Unexpected ";"
	// exit code: 2
}

// A custom dialer: the script connects to the name it knows
// (broker.internal, from Options.URL) and the host decides where that goes
// — here the local broker; a proxy, a tunnel or a fault injector works the
// same way. This example needs RabbitMQ on 127.0.0.1:5672, so `go test`
// only compiles it; the integration tests run it and check its output:
//
//	dialling broker.internal:5672
//	connected to RabbitMQ
//	exit code: 0
func ExampleOptions_dial() {
	rt, err := amqpjs.New(amqpjs.Options{
		Stdout: os.Stdout,
		URL:    "amqp://guest:guest@broker.internal:5672/",
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			fmt.Println("dialling", addr)
			var d net.Dialer
			return d.DialContext(ctx, network, "127.0.0.1:5672")
		},
	})
	if err != nil {
		panic(err)
	}
	err = rt.RunSource(context.Background(), "dial.js", `
		const aioamqp = require('aioamqp')
		const [transport, protocol] = await aioamqp.connect()
		console.log('connected to', protocol.server_properties.product)
		await protocol.close()
	`)
	if err != nil {
		fmt.Println(strings.SplitN(err.Error(), "\n", 2)[0])
	}
	fmt.Println("exit code:", amqpjs.ExitCode(err))
}

// A load or test scenario: VUs run the default function, thresholds decide
// the exit code. The summary goes to Stderr (discarded here: it has
// timings).
func ExampleOptions_scenario() {
	so := &amqpjs.ScenarioOptions{}
	so.Progress = amqpjs.ProgressNone
	rt, err := amqpjs.New(amqpjs.Options{Stdout: os.Stdout, Scenario: so})
	if err != nil {
		panic(err)
	}
	defer rt.Close()
	err = rt.RunSource(context.Background(), "scenario.js", `
import { check } from 'amqpjs/metrics';
export const options = { vus: 2, iterations: 10, thresholds: { checks: ['rate==1'], iterations: ['count>10'] } };
export default function () { check(__ITER, { 'an iteration number': (n) => n >= 0 }); }
export function teardown() { console.log('teardown'); }
`)
	var se *amqpjs.ScenarioError
	fmt.Println(errors.As(err, &se), amqpjs.ExitCode(err))
	// Output:
	// teardown
	// true 99
}
