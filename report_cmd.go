package main

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"github.com/amqpjs/amqpjs/internal/report"
	"github.com/amqpjs/amqpjs/runtime"
)

const reportUsage = `Usage: amqpjs report [--html FILE] RESULTS...

Makes the HTML report of a scenario run from the results it saved with
'amqpjs run --out json=RESULTS': the same page that '--out html=FILE' writes
during a run. One self-contained file that opens offline in any browser:
charts over time of the message rates, confirm, end-to-end and RPC latency
percentiles, VUs and errors (per scenario when the points carry a scenario
tag), the summary table, the thresholds with their lines on the charts, and
the run's configuration, versions and times.

Results written by an older amqpjs (no run line at the end) still make a
report, without thresholds and whole-run percentiles. Several RESULTS share
one time axis (counters add up; gauges and latencies show the highest); the
summary is the first file's. RESULTS '-' is standard input. See README.md,
"The HTML report".

Flags:
`

func reportCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newCommand("report", reportUsage, stdout, stderr)
	out := fs.String("html", "report.html", "write the report to `FILE` ('-': standard output)")
	points := fs.Int("points", report.MaxPoints, "the most points per chart line; longer runs are downsampled")
	if code, done := fs.parse(args); done {
		return code
	}
	if fs.NArg() == 0 {
		return fs.usageError("missing RESULTS (files written by 'amqpjs run --out json=FILE')")
	}
	if *points < 10 {
		fmt.Fprintln(stderr, "amqpjs report: --points must be at least 10")
		return runtime.ExitUsage
	}
	d := report.NewData()
	for _, name := range fs.Args() {
		var err error
		if name == "-" {
			err = d.ReadJSON(stdin, "standard input")
		} else {
			var f *os.File
			if f, err = os.Open(name); err == nil {
				err = d.ReadJSON(f, name)
				f.Close()
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "amqpjs report: %v\n", err)
			return runtime.ExitFailure
		}
	}
	page := d.Page(*points)
	if *out == "-" {
		w := bufio.NewWriter(stdout)
		if err := report.Render(w, page); err != nil || w.Flush() != nil {
			fmt.Fprintf(stderr, "amqpjs report: writing the report: %v\n", err)
			return runtime.ExitFailure
		}
		return 0
	}
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintf(stderr, "amqpjs report: %v\n", err)
		return runtime.ExitFailure
	}
	w := bufio.NewWriter(f)
	err = report.Render(w, page)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintf(stderr, "amqpjs report: %s: %v\n", *out, err)
		return runtime.ExitFailure
	}
	fmt.Fprintf(stderr, "amqpjs report: wrote %s\n", *out)
	return 0
}
