package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/amqpjs/amqpjs/bench"
	"github.com/amqpjs/amqpjs/runtime"
)

const benchUsage = `Usage: amqpjs bench [flags]

Measures amqpjs against the broker, beside a raw amqp091-go program and Node
amqplib doing the same work, each client in its own process: publish
throughput (await each publish; confirms with W in flight), consume
throughput (no_ack; manual acks with a prefetch), end-to-end latency at a
fixed rate, and the client's CPU seconds per 100 000 messages. Prints a table
of medians with the ratios to raw amqp091-go. amqplib is installed with npm
into a temporary directory; without node or npm it is skipped. The "wire"
client speaks AMQP with pre-encoded frames and next to no CPU: its
throughput is the broker's limit, and amqpjs/wire how close amqpjs comes to
it. See README.md, "Performance".

Flags:
`

func benchCmd(args []string, stdout, stderr io.Writer) int {
	fs := newCommand("bench", benchUsage, stdout, stderr)
	o := bench.Options{Stdout: stdout, Stderr: stderr}
	fs.StringVar(&o.URL, "url", "", "broker URL; default $AMQP_URL or amqp://guest:guest@127.0.0.1:5672/")
	fs.IntVarP(&o.N, "messages", "n", 200000, "messages per phase")
	fs.IntVarP(&o.Size, "size", "s", 100, "message body bytes")
	fs.IntVarP(&o.Window, "window", "w", 10000, "confirm phase: publishes in flight")
	fs.IntVar(&o.Prefetch, "prefetch", 1000, "manual-ack phase: basic_qos prefetch_count")
	fs.IntVar(&o.Rate, "rate", 5000, "latency phase: messages per second")
	fs.DurationVar(&o.Duration, "duration", 5*time.Second, "latency phase: how long")
	fs.IntVarP(&o.Runs, "runs", "r", 3, "runs of each client (the table shows medians)")
	fs.IntVar(&o.NoAckWindow, "no-ack-window", 0, "amqpjs's no_ack_window in the consume phase (0: the broker's own no_ack, as the other clients; amqpjs's default is 1000)")
	clients := fs.String("clients", strings.Join(bench.Clients, ","), "clients to run: "+strings.Join(bench.Clients, ","))
	phases := fs.String("phases", strings.Join(bench.Phases, ","), "phases to run: "+strings.Join(bench.Phases, ","))
	fs.StringVar(&o.AmqpjsBin, "amqpjs-bin", "", "run the amqpjs client with this binary (e.g. an older build, to compare); default this one")
	fs.StringVar(&o.Amqplib, "amqplib", "amqplib", "npm package spec to install for the amqplib client (e.g. amqplib@0.10.4)")
	fs.DurationVar(&o.RunTimeout, "run-timeout", 15*time.Minute, "bound on one client run")
	fs.BoolVar(&o.Markdown, "markdown", false, "print the table as Markdown")
	fs.StringVar(&o.JSONOut, "json", "", "also write every result to this file (JSON)")
	fs.BoolVarP(&o.Verbose, "verbose", "v", false, "print each run's results on stderr")
	worker := fs.String("worker", "", "internal: run as the given client's process")
	_ = fs.MarkHidden("worker")
	if code, done := fs.parse(args); done {
		return code
	}
	if *worker != "" {
		workers := map[string]func(string, io.Writer) error{"raw": bench.RawWorker, "wire": bench.WireWorker}
		run, ok := workers[*worker]
		if !ok || fs.NArg() != 1 {
			fmt.Fprintln(stderr, "amqpjs bench: --worker raw|wire CONFIG")
			return runtime.ExitUsage
		}
		if err := run(fs.Arg(0), stdout); err != nil {
			fmt.Fprintf(stderr, "amqpjs bench: %s worker: %v\n", *worker, err)
			return 1
		}
		return 0
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "amqpjs bench: unexpected argument %q\n", fs.Arg(0))
		return runtime.ExitUsage
	}
	if o.URL == "" {
		o.URL = os.Getenv("AMQP_URL")
	}
	if o.URL == "" {
		o.URL = "amqp://guest:guest@127.0.0.1:5672/"
	}
	o.Clients = splitList(*clients)
	o.Phases = splitList(*phases)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := bench.Run(ctx, o); err != nil {
		fmt.Fprintf(stderr, "amqpjs bench: %v\n", err)
		if ctx.Err() != nil {
			return runtime.ExitInterrupted
		}
		return 1
	}
	return 0
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
