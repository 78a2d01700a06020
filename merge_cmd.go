package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/amqpjs/amqpjs/internal/merge"
	"github.com/amqpjs/amqpjs/internal/report"
	"github.com/amqpjs/amqpjs/runtime"
	"github.com/amqpjs/amqpjs/runtime/metrics"
	"github.com/amqpjs/amqpjs/runtime/scenario"
)

const mergeUsage = `Usage: amqpjs merge [--summary-export FILE] [--out html=FILE] RESULTS...

Adds up the results of the instances of one split run ('amqpjs run
--execution-segment a:b' or '--instance I/N' on several machines) into the
results of the whole run, and prints its end-of-test summary on stdout, as
one run would have. RESULTS are each instance's --summary-export file, or
its --out json= file (which also carries the time series for the HTML
report).

The merge is exact: counters and counts add up, a rate is the sum of its
numerators over the sum of its denominators, a trend's percentiles are
those of the merged HdrHistograms (the same as one histogram of all the
samples), min and max are the extremes; the VU gauges (vus, vus_max) add
up, other gauges keep the value of the instance that ended last. The run
lasted from the earliest start to the latest end (a counter's rate is over
that time). The thresholds of the script's options are evaluated on the
merged data.

The results must belong together: one script (same SHA-256), the same
options, each run once, segments that split 0:1 with no gap and no
overlap. Otherwise nothing is merged and the message names the file and
the segment.

Exit codes: 0 merged, all thresholds pass; 99 a threshold failed; 2 the
results do not belong together, a file is not amqpjs results, or a usage
error; 1 an output could not be written. See docs/merge.md.

Flags:
`

func mergeCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newCommand("merge", mergeUsage, stdout, stderr)
	export := fs.String("summary-export", "", "write the merged summary as JSON to `FILE` (the format of 'amqpjs run --summary-export')")
	outs := fs.StringArray("out", nil, "html=FILE: write the HTML report of the whole run (RESULTS must be --out json= files)")
	if code, done := fs.parse(args); done {
		return code
	}
	var htmlOut string
	for _, o := range *outs {
		kind, path, ok := strings.Cut(o, "=")
		if kind != "html" || !ok || path == "" {
			return fs.usageError("invalid --out %q: want html=FILE", o)
		}
		if htmlOut != "" {
			return fs.usageError("--out html= given twice")
		}
		htmlOut = path
	}
	if fs.NArg() == 0 {
		return fs.usageError("missing RESULTS (each instance's --summary-export or --out json= file)")
	}

	var inputs []*merge.Input
	for _, name := range fs.Args() {
		var in *merge.Input
		var err error
		if name == "-" {
			in, err = merge.Read(stdin, "standard input", htmlOut != "")
		} else {
			var f *os.File
			if f, err = os.Open(name); err == nil {
				in, err = merge.Read(f, name, htmlOut != "")
				f.Close()
			} else {
				err = &merge.InputError{Msg: err.Error()}
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "amqpjs merge: %v\n", err)
			return runtime.ExitUsage
		}
		if htmlOut != "" && !in.Lines {
			fmt.Fprintf(stderr, "amqpjs merge: --out html=: %s is a summary export, without the time series the report charts: merge the instances' --out json= files\n", name)
			return runtime.ExitUsage
		}
		inputs = append(inputs, in)
	}
	res, err := merge.Merge(inputs)
	if err != nil {
		fmt.Fprintf(stderr, "amqpjs merge: %v\n", err)
		if merge.IsInputError(err) {
			return runtime.ExitUsage
		}
		return runtime.ExitFailure
	}

	var b strings.Builder
	fmt.Fprintf(&b, "\n  merged %d results of %s, segments %s\n", len(inputs), res.Run.Script, strings.Join(res.Segments, ", "))
	ran := res.Summary.Duration.Round(time.Millisecond)
	var opts struct{ Named bool }
	if json.Unmarshal(res.Run.Options, &opts) == nil && opts.Named {
		// As a run with options.scenarios: a line per scenario, with its
		// iterations in the whole run.
		parts := strings.Split(res.Run.Scenario, "; ")
		fmt.Fprintf(&b, "  scenarios: %d, ran %s\n", len(parts), ran)
		nameW := 0
		for _, p := range parts {
			name, _, _ := strings.Cut(p, ": ")
			nameW = max(nameW, len(name))
		}
		for _, p := range parts {
			name, desc, _ := strings.Cut(p, ": ")
			line := fmt.Sprintf("    %-*s  %s", nameW, name, desc)
			if it := res.Registry.Get(scenario.MetricIterations); it != nil {
				n := it.Series(metrics.Tags{{Key: "scenario", Value: name}}).Stats().Sum
				line += fmt.Sprintf("; %d iterations", int64(n))
			}
			fmt.Fprintln(&b, line)
		}
	} else {
		fmt.Fprintf(&b, "  scenario: %s; ran %s\n", res.Run.Scenario, ran)
	}
	if res.Run.Status != "" {
		fmt.Fprintf(&b, "  not all ended on their own: %s\n", res.Run.Status)
	}
	io.WriteString(stdout, b.String())
	if err := res.Summary.WriteText(stdout); err != nil {
		fmt.Fprintf(stderr, "amqpjs merge: %v\n", err)
		return runtime.ExitFailure
	}

	code := 0
	if *export != "" {
		out, err := json.MarshalIndent(res.JSON(), "", "  ")
		if err == nil {
			err = os.WriteFile(*export, append(out, '\n'), 0o644)
		}
		if err != nil {
			fmt.Fprintf(stderr, "amqpjs merge: --summary-export: %v\n", err)
			code = runtime.ExitFailure
		}
	}
	if htmlOut != "" {
		if err := writeMergedReport(htmlOut, inputs, res); err != nil {
			fmt.Fprintf(stderr, "amqpjs merge: --out html=%s: %v\n", htmlOut, err)
			code = runtime.ExitFailure
		} else {
			fmt.Fprintf(stderr, "amqpjs merge: wrote %s\n", htmlOut)
		}
	}
	if code == 0 && res.Failed {
		code = scenario.ExitThresholds
	}
	return code
}

// writeMergedReport writes the HTML report of the whole run: the
// instances' time series on one time axis, the merged summary and
// thresholds.
func writeMergedReport(path string, inputs []*merge.Input, res *merge.Result) error {
	d := report.NewData()
	for _, in := range inputs {
		for _, p := range in.Points {
			d.AddPoint(p)
		}
		d.Sources = append(d.Sources, in.Name)
	}
	js := res.JSON()
	js.Run = nil
	run := res.Run
	d.Run, d.Summary = &run, &js
	d.Notes = append(d.Notes, fmt.Sprintf("Merged from %d instances (segments %s): the summary and the thresholds are those of the whole run, exactly. In the charts, counters add up; gauges and latency percentiles show the highest of the instances in each interval.",
		len(inputs), strings.Join(res.Segments, ", ")))
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	err = report.Render(w, d.Page(0))
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
