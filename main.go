// Command amqpjs runs JavaScript scenario scripts against RabbitMQ with the
// API of Python's aioamqp. See README.md and docs/api.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/amqpjs/amqpjs/pkg/amqpjs"
)

func main() {
	// Message dispatch allocates many short-lived JS objects; collecting half
	// as often costs little memory and ~10% less CPU per message. GOGC set in
	// the environment wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
	os.Exit(afterRun(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr), os.Stderr))
}

const usage = `amqpjs — run JavaScript against RabbitMQ with aioamqp's API

Usage:
  amqpjs run [flags] script.js [-- args...]   run a script (.js, .mjs, .cjs, .ts)
  amqpjs repl [flags]                          an interactive shell (aioamqp preloaded)
  amqpjs bench [flags]                         measure against the broker, raw amqp091-go and amqplib
  amqpjs report [--html FILE] RESULTS...       the HTML report of runs saved with --out json=FILE
  amqpjs version                               print the version
  amqpjs help [command]                        show help

Run 'amqpjs run --help', 'amqpjs repl --help' or 'amqpjs report --help' for their flags.
`

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return amqpjs.ExitUsage
	}
	switch args[0] {
	case "run":
		return runCmd(args[1:], stdout, stderr)
	case "repl":
		return replCmd(args[1:], stdin, stdout, stderr)
	case "bench":
		return benchCmd(args[1:], stdout, stderr)
	case "report":
		return reportCmd(args[1:], stdin, stdout, stderr)
	case "version", "--version":
		fmt.Fprintf(stdout, "amqpjs %s\n", amqpjs.Version())
		return 0
	case "help", "-h", "--help":
		if len(args) > 1 && args[1] == "run" {
			return runCmd([]string{"--help"}, stdout, stderr)
		}
		if len(args) > 1 && args[1] == "report" {
			return reportCmd([]string{"--help"}, stdin, stdout, stderr)
		}
		if len(args) > 1 && args[1] == "repl" {
			return replCmd([]string{"--help"}, stdin, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "amqpjs: unknown command %q\n\n%s", args[0], usage)
		return amqpjs.ExitUsage
	}
}

const runUsage = `Usage: amqpjs run [flags] script.js [-- args...]

Runs a script as its main module: CommonJS, ES modules and TypeScript, with
top-level await. The process ends when the script is done and nothing is
pending (no timer, no open connection). Exit codes: 0 success, 1 uncaught
error or unhandled rejection (or --timeout), 2 usage or syntax error,
70 internal error of amqpjs (one line; the Go stack in the file it names),
99 a scenario threshold failed, 130 interrupted (Ctrl-C; a second Ctrl-C
exits at once).

A script whose exports have a default function is a load or test scenario,
in k6's vocabulary: setup() once, the default function repeated by virtual
users (VUs) under an executor, teardown(data) once; AMQP metrics are
recorded without script changes; a summary is printed on stderr; exit code
99 when a threshold failed. The scenario flags below override the script's
'export const options'. See README.md, "Load and test scenarios".

Flags:
`

func runCmd(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "", "AMQP URL whose parts are connect()'s defaults (amqp://user:pass@host:port/vhost); default $AMQP_URL")
	timeout := fs.Duration("timeout", 0, "end the run after this long (e.g. 30s), exit 1; 0 means no limit")
	cpuProfile := fs.String("cpuprofile", "", "write a Go CPU profile of the whole run to `FILE` (go tool pprof FILE)")
	help := fs.BoolP("help", "h", false, "show this help")
	sf := addScenarioFlags(fs)
	fs.Usage = func() {
		fmt.Fprint(stderr, runUsage)
		fmt.Fprint(stderr, fs.FlagUsages())
	}
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "amqpjs run: %v\n", err)
		fmt.Fprintln(stderr, "Run 'amqpjs run --help' for usage.")
		return amqpjs.ExitUsage
	}
	if *help {
		fmt.Fprint(stdout, runUsage)
		fmt.Fprint(stdout, fs.FlagUsages())
		return 0
	}
	rest := fs.Args()
	if len(rest) == 0 {
		fmt.Fprintln(stderr, "amqpjs run: missing script path")
		fmt.Fprintln(stderr, "Run 'amqpjs run --help' for usage.")
		return amqpjs.ExitUsage
	}
	script := rest[0]
	scriptArgs := rest[1:]
	if st, err := os.Stat(script); err != nil || st.IsDir() {
		msg := "no such file"
		if err == nil {
			msg = "is a directory"
		}
		fmt.Fprintf(stderr, "amqpjs run: cannot open script '%s': %s\n", script, msg)
		return amqpjs.ExitUsage
	}
	amqpURL := *url
	if amqpURL == "" {
		amqpURL = os.Getenv("AMQP_URL")
	}
	so, err := sf.scenario(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "amqpjs run: %v\n", err)
		return amqpjs.ExitUsage
	}
	r, err := amqpjs.New(amqpjs.Options{
		Stdout:   stdout,
		Stderr:   stderr,
		Env:      environ(),
		Args:     scriptArgs,
		Argv0:    os.Args[0],
		URL:      amqpURL,
		Scenario: &amqpjs.ScenarioOptions{Options: so, Started: scenarioProcs},
	})
	if err != nil {
		sf.closeOutputs()
		fmt.Fprintf(stderr, "amqpjs run: --url: %v\n", errors.Unwrap(err))
		return amqpjs.ExitUsage
	}
	defer r.Close()

	singleLoopProcs()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "amqpjs run: --cpuprofile: %v\n", err)
			return amqpjs.ExitUsage
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			fmt.Fprintf(stderr, "amqpjs run: --cpuprofile: %v\n", err)
			return amqpjs.ExitUsage
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}

	// Ctrl-C (or SIGTERM) interrupts the run: a scenario stops its VUs,
	// runs teardown and prints its summary. A second one exits at once.
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	if *timeout > 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithTimeoutCause(ctx, *timeout, &amqpjs.TimeoutError{After: *timeout})
		defer stop()
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-sigs:
			cancel(amqpjs.ErrInterrupted)
		case <-done:
			return
		}
		select {
		case <-sigs:
			fmt.Fprintln(stderr, "amqpjs: interrupted twice, exiting at once")
			os.Exit(amqpjs.ExitInterrupted)
		case <-done:
		}
	}()

	err = r.RunFile(ctx, script)
	if msg := amqpjs.Message(err); msg != "" {
		fmt.Fprintln(stderr, msg)
	}
	return amqpjs.ExitCode(err)
}

func environ() map[string]string {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}

const replUsage = `Usage: amqpjs repl [flags]

An interactive shell like Node's REPL, on the runtime of 'amqpjs run', with
aioamqp preloaded as a global and top-level await:

  > const [transport, protocol] = await aioamqp.connect()
  > const channel = await protocol.channel()
  > await channel.queue_declare('jobs')

Tab completes names; .help lists the commands; Ctrl-C interrupts an
evaluation or clears the line; Ctrl-D or .exit closes open connections and
exits 0. When stdin is not a terminal, lines are evaluated one by one with no
prompt or colours: each value other than undefined is printed on stdout, each
error on stderr.

Flags:
`

func replCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("repl", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "", "AMQP URL whose parts are connect()'s defaults (amqp://user:pass@host:port/vhost); default $AMQP_URL")
	history := fs.String("history", "", "keep the lines typed in `FILE` across sessions; default $AMQPJS_HISTORY, else ~/.amqpjs_history; '' keeps none")
	noColor := fs.Bool("no-color", false, "print results without colours (also NO_COLOR=1)")
	help := fs.BoolP("help", "h", false, "show this help")
	fs.Usage = func() {
		fmt.Fprint(stderr, replUsage)
		fmt.Fprint(stderr, fs.FlagUsages())
	}
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "amqpjs repl: %v\n", err)
		fmt.Fprintln(stderr, "Run 'amqpjs repl --help' for usage.")
		return amqpjs.ExitUsage
	}
	if *help {
		fmt.Fprint(stdout, replUsage)
		fmt.Fprint(stdout, fs.FlagUsages())
		return 0
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "amqpjs repl: unexpected argument %q\n", fs.Arg(0))
		fmt.Fprintln(stderr, "Run 'amqpjs repl --help' for usage.")
		return amqpjs.ExitUsage
	}
	amqpURL := *url
	if amqpURL == "" {
		amqpURL = os.Getenv("AMQP_URL")
	}
	historyFile := *history
	if !fs.Changed("history") {
		if h, ok := os.LookupEnv("AMQPJS_HISTORY"); ok {
			historyFile = h
		} else if home, err := os.UserHomeDir(); err == nil {
			historyFile = filepath.Join(home, ".amqpjs_history")
		}
	}
	code, err := amqpjs.REPL(context.Background(), amqpjs.Options{
		Stdout: stdout,
		Stderr: stderr,
		Env:    environ(),
		Argv0:  os.Args[0],
		URL:    amqpURL,
	}, amqpjs.REPLOptions{HistoryFile: historyFile, NoColor: *noColor, Stdin: stdin})
	if err != nil {
		fmt.Fprintf(stderr, "amqpjs repl: --url: %v\n", errors.Unwrap(err))
	}
	return code
}
