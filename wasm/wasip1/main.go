//go:build wasip1

// Command wasip1 is amqpjs for WASI (GOOS=wasip1 GOARCH=wasm): it runs one
// script file, with no network — Go's net package cannot dial under WASI
// preview 1, so aioamqp.connect() fails with a connection error; everything
// else of the runtime (modules, TypeScript, timers, Buffer, ...) works.
//
//	GOOS=wasip1 GOARCH=wasm go build -o amqpjs-wasip1.wasm ./wasm/wasip1
//	wasmtime --dir=. amqpjs-wasip1.wasm script.js [args...]
//	node wasm/wasip1/run.mjs amqpjs-wasip1.wasm script.js [args...]
//
// The exit code is the one `amqpjs run` gives.
package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/amqpjs/amqpjs/pkg/amqpjs"
)

func main() {
	if len(os.Args) < 2 || strings.HasPrefix(os.Args[1], "-") {
		fmt.Fprintln(os.Stderr, "usage: amqpjs-wasip1.wasm script.js [args...]")
		os.Exit(amqpjs.ExitUsage)
	}
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	r, err := amqpjs.New(amqpjs.Options{
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		Env:    env,
		Args:   os.Args[2:],
		URL:    os.Getenv("AMQP_URL"),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "amqpjs:", err)
		os.Exit(amqpjs.ExitUsage)
	}
	err = r.RunFile(context.Background(), os.Args[1])
	var ee *amqpjs.ExitError
	var pe *fs.PathError
	switch {
	case err == nil, errors.As(err, &ee):
	case errors.As(err, &pe):
		fmt.Fprintf(os.Stderr, "amqpjs run: cannot open script '%s': %v\n", os.Args[1], pe.Err)
	default:
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(amqpjs.ExitCode(err))
}
