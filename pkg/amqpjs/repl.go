package amqpjs

import (
	"context"
	"fmt"
	"io"

	"github.com/amqpjs/amqpjs/bindings"
	"github.com/amqpjs/amqpjs/repl"
)

// REPLOptions configure [REPL]'s session.
type REPLOptions struct {
	// HistoryFile keeps the lines typed across sessions; "" keeps none.
	HistoryFile string
	// NoColor turns colours off in a terminal (they are always off when
	// the output is not one).
	NoColor bool
	// Banner is printed under the welcome line of an interactive session;
	// "" says that aioamqp is preloaded and connect()'s defaults (the URL
	// with its password hidden).
	Banner string
	// Stdin is read for lines (os.Stdin when nil). The session is
	// interactive (prompts, line editing, colours) when it and
	// Options.Stdout are both terminals.
	Stdin io.Reader
}

// REPL runs an interactive session like Node's REPL, as `amqpjs repl`
// does, on a runtime made from opts as [New] makes one (Options.Scenario
// aside), with the aioamqp module preloaded as the global aioamqp and
// top-level await. Nil Stdout and Stderr are the process's. It returns,
// with the exit code, when the session ends: `.exit`, end of input, a
// second Ctrl-C at an empty prompt, process.exit(), or ctx. Open
// connections are closed first. The error is an invalid Options.URL (and
// nothing ran).
func REPL(ctx context.Context, opts Options, ro REPLOptions) (int, error) {
	defaults, err := bindings.DefaultsFromURL(opts.URL)
	if err != nil {
		return ExitUsage, fmt.Errorf("amqpjs: Options.URL: %w", err)
	}
	opts.Scenario = nil
	r := &Runtime{opts: opts, defaults: defaults}
	banner := ro.Banner
	if banner == "" {
		banner = "aioamqp is preloaded; connect() defaults to amqp://guest:***@localhost:5672/."
		if opts.URL != "" {
			banner = "aioamqp is preloaded; connect() defaults to " + bindings.RedactURL(opts.URL) + "."
		}
	}
	lo := lowOptions(opts)
	lo.Stdout, lo.Stderr = nil, nil // the REPL's
	return repl.Run(ctx, repl.Options{
		Runtime:     lo,
		Setup:       r.setup,
		Globals:     map[string]string{"aioamqp": bindings.ModuleName},
		HistoryFile: ro.HistoryFile,
		NoColor:     ro.NoColor,
		Banner:      banner,
		Stdin:       ro.Stdin,
		Stdout:      opts.Stdout,
		Stderr:      opts.Stderr,
	}), nil
}
