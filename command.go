package main

import (
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/amqpjs/amqpjs/pkg/amqpjs"
)

// command is the flag set of a subcommand (`amqpjs NAME`) with the
// conventions every one of them follows: -h/--help prints the usage text
// and then the flags on stdout and exits 0; a usage error prints
// "amqpjs NAME: …" and a pointer to --help on stderr and exits 2.
type command struct {
	*pflag.FlagSet
	usage          string
	help           *bool
	stdout, stderr io.Writer
}

func newCommand(name, usage string, stdout, stderr io.Writer) *command {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &command{FlagSet: fs, usage: usage, stdout: stdout, stderr: stderr}
	c.help = fs.BoolP("help", "h", false, "show this help")
	fs.Usage = func() { c.printUsage(stderr) }
	return c
}

func (c *command) printUsage(w io.Writer) {
	fmt.Fprint(w, c.usage)
	fmt.Fprint(w, c.FlagUsages())
}

// parse parses args. done says the command ends here, exiting with code:
// 0 after --help, 2 after a bad flag.
func (c *command) parse(args []string) (code int, done bool) {
	if err := c.Parse(args); err != nil {
		return c.usageError("%v", err), true
	}
	if *c.help {
		c.printUsage(c.stdout)
		return 0, true
	}
	return 0, false
}

// usageError reports a usage error and returns its exit code.
func (c *command) usageError(format string, a ...any) int {
	fmt.Fprintf(c.stderr, "amqpjs %s: %s\n", c.Name(), fmt.Sprintf(format, a...))
	fmt.Fprintf(c.stderr, "Run 'amqpjs %s --help' for usage.\n", c.Name())
	return amqpjs.ExitUsage
}
