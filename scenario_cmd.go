package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/amqpjs/amqpjs/bindings"
	"github.com/amqpjs/amqpjs/runtime/metrics"
	"github.com/amqpjs/amqpjs/runtime/scenario"
	"github.com/amqpjs/amqpjs/runtime/scenario/segment"
)

// scenarioFlags are the flags of `amqpjs run` for load and test scenarios
// (scripts with a default export). They override the script's options.
type scenarioFlags struct {
	fs            *pflag.FlagSet
	vus           *int
	duration      *time.Duration
	iterations    *int
	stages        *[]string
	rate          *float64
	maxVUs        *int
	quiet         *bool
	summaryExport *string
	outs          *[]string
	noE2E         *bool
	segment       *string
	instance      *string
	startAt       *string
	outputs       []metrics.Output
}

func addScenarioFlags(fs *pflag.FlagSet) *scenarioFlags {
	return &scenarioFlags{
		fs:            fs,
		vus:           fs.Int("vus", 0, "scenario: number of virtual users"),
		duration:      fs.Duration("duration", 0, "scenario: how long the VUs iterate (e.g. 30s)"),
		iterations:    fs.Int("iterations", 0, "scenario: iterations shared by the VUs"),
		stages:        fs.StringArray("stage", nil, "scenario: a ramping stage DURATION:TARGET_VUS, e.g. 10s:50 (repeatable)"),
		rate:          fs.Float64("rate", 0, "scenario: start this many iterations per second (constant arrival rate)"),
		maxVUs:        fs.Int("max-vus", 0, "scenario: the most VUs --rate may use"),
		quiet:         fs.Bool("quiet", false, "scenario: no live progress"),
		summaryExport: fs.String("summary-export", "", "scenario: write the end summary as JSON to this file"),
		outs:          fs.StringArray("out", nil, "scenario: write the per-second time series, json=FILE, csv=FILE or prometheus=URL (remote write), or the HTML report, html=FILE (repeatable)"),
		noE2E:         fs.Bool("no-e2e-header", false, "scenario: do not add the "+bindings.E2EHeader+" header to publishes (no amqp_e2e_latency)"),
		segment:       fs.String("execution-segment", "", "scenario: run only this part `A:B` of every scenario (fractions or percentages, e.g. 0:1/3, 1/3:2/3, 50%:100%), for a run split between instances"),
		instance:      fs.String("instance", "", "scenario: shorthand for --execution-segment I/N:(I+1)/N, `I/N` with 0 <= I < N (e.g. \"$JOB_COMPLETION_INDEX/3\")"),
		startAt:       fs.String("start-at", "", "scenario: after init and setup, hold the start until `TIME`, RFC 3339 (2026-01-02T15:04:05Z) or +DURATION from now (+30s); a late instance starts at once"),
	}
}

// split reads --execution-segment or --instance, and --start-at.
func (f *scenarioFlags) split(now time.Time) (segment.Segment, time.Time, error) {
	seg := segment.Whole()
	var err error
	switch {
	case f.fs.Changed("execution-segment") && f.fs.Changed("instance"):
		return seg, time.Time{}, errors.New("--execution-segment and --instance both set: give one (--instance I/N is --execution-segment I/N:(I+1)/N)")
	case f.fs.Changed("execution-segment"):
		if seg, err = segment.Parse(*f.segment); err != nil {
			return seg, time.Time{}, fmt.Errorf("--execution-segment: %v", err)
		}
	case f.fs.Changed("instance"):
		if seg, err = segment.Instance(*f.instance); err != nil {
			hint := ""
			if strings.Contains(*f.instance, "$") || strings.HasPrefix(strings.TrimSpace(*f.instance), "/") {
				hint = " (is the index variable set? Kubernetes expands $(JOB_COMPLETION_INDEX) in args in the pods of an Indexed Job)"
			}
			return seg, time.Time{}, fmt.Errorf("--instance: %v%s", err, hint)
		}
	}
	var at time.Time
	if f.fs.Changed("start-at") {
		if at, err = parseStartAt(*f.startAt, now); err != nil {
			return seg, time.Time{}, fmt.Errorf("--start-at: %v", err)
		}
	}
	return seg, at, nil
}

// parseStartAt reads --start-at: RFC 3339, or +DURATION from now.
func parseStartAt(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if d, ok := strings.CutPrefix(s, "+"); ok {
		dur, err := time.ParseDuration(d)
		if err != nil || dur < 0 {
			return time.Time{}, fmt.Errorf("%q: want +DURATION, e.g. +30s", s)
		}
		return now.Add(dur), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: want RFC 3339 (e.g. 2026-01-02T15:04:05Z) or +DURATION (e.g. +30s)", s)
	}
	return t, nil
}

// scenario returns the options of the run's scenario (used when the
// script turns out to be one); pkg/amqpjs adds the script and the VUs'
// runtimes.
func (f *scenarioFlags) scenario(stderr io.Writer) (scenario.Options, error) {
	seg, startAt, err := f.split(time.Now())
	if err != nil {
		return scenario.Options{}, err
	}
	var ov scenario.Overrides
	if f.fs.Changed("vus") {
		ov.VUs = f.vus
	}
	if f.fs.Changed("duration") {
		ov.Duration = f.duration
	}
	if f.fs.Changed("iterations") {
		ov.Iterations = f.iterations
	}
	if f.fs.Changed("rate") {
		ov.Rate = f.rate
	}
	if f.fs.Changed("max-vus") {
		ov.MaxVUs = f.maxVUs
	}
	for _, s := range *f.stages {
		st, err := scenario.ParseStage(s)
		if err != nil {
			return scenario.Options{}, fmt.Errorf("--stage: %v", err)
		}
		ov.Stages = append(ov.Stages, st)
	}
	for _, spec := range *f.outs {
		o, err := metrics.OpenOutput(spec)
		if err != nil {
			f.closeOutputs()
			return scenario.Options{}, err
		}
		f.outputs = append(f.outputs, o)
	}
	progress := scenario.ProgressPlain
	switch {
	case *f.quiet:
		progress = scenario.ProgressNone
	case stderr == io.Writer(os.Stderr) && isTerminal(os.Stderr):
		progress = scenario.ProgressLine
	}
	return scenario.Options{
		Overrides:     ov,
		E2EHeader:     !*f.noE2E,
		Stderr:        stderr,
		Progress:      progress,
		Outputs:       f.outputs,
		SummaryExport: *f.summaryExport,
		Segment:       seg,
		StartAt:       startAt,
	}, nil
}

// closeOutputs closes the --out files of a run that did not start.
func (f *scenarioFlags) closeOutputs() {
	for _, o := range f.outputs {
		_ = o.Close()
	}
	f.outputs = nil
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
