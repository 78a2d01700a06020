package report

import (
	"bufio"
	_ "embed"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"os"
	"strings"
	"sync"
	"text/template"

	"github.com/amqpjs/amqpjs/runtime"
	"github.com/amqpjs/amqpjs/runtime/metrics"
)

// UPlotVersion is the version of the vendored uPlot (assets/uplot).
const UPlotVersion = "1.6.32"

var (
	//go:embed assets/uplot/uPlot.iife.min.js
	uplotJS string
	//go:embed assets/uplot/uPlot.min.css
	uplotCSS string
	//go:embed assets/uplot/LICENSE
	uplotLicense string
	//go:embed assets/report.js
	pageJS string
	//go:embed assets/report.css
	pageCSS string
)

var pageTmpl = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en" data-report="loading">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="amqpjs {{.Version}}">
<title>{{.Title}}</title>
<!--
The charts of this report are drawn by uPlot {{.UPlotVersion}} (https://github.com/leeoniya/uPlot), included below under its licence:

{{.License}}
-->
<style>{{.UPlotCSS}}</style>
<style>{{.CSS}}</style>
</head>
<body>
<noscript><p>This report draws its tables and charts with JavaScript: allow scripts for this file.</p></noscript>
<main id="report"></main>
<script id="report-data" type="application/json">{{.Data}}</script>
<script>{{.UPlot}}</script>
<script>{{.JS}}</script>
</body>
</html>
`))

// Render writes the report page of p: one self-contained HTML file.
func Render(w io.Writer, p *Page) error {
	data, err := json.Marshal(p) // escapes <, > and &: safe inside <script>
	if err != nil {
		return err
	}
	return pageTmpl.Execute(w, map[string]string{
		"Version":      html.EscapeString(runtime.Version),
		"Title":        html.EscapeString(p.Title),
		"UPlotVersion": UPlotVersion,
		"License":      strings.ReplaceAll(uplotLicense, "--", "- -"),
		"UPlotCSS":     uplotCSS,
		"CSS":          pageCSS,
		"Data":         string(data),
		"UPlot":        uplotJS,
		"JS":           pageJS,
	})
}

func init() {
	metrics.RegisterOutput("html", func(path string) (metrics.Output, error) {
		o, err := Open(path)
		if err != nil {
			return nil, fmt.Errorf("--out html=%s: %w", path, err)
		}
		return o, nil
	})
}

// Output is the html=FILE output of a scenario run: it keeps the time
// series in memory (a few hundred bytes per series and second) and writes
// the report when closed.
type Output struct {
	mu   sync.Mutex
	f    *os.File
	data *Data
}

// Open creates the report file at path; the report is written by Close.
func Open(path string) (*Output, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &Output{f: f, data: NewData()}, nil
}

// Write keeps one interval's points.
func (o *Output) Write(pts []metrics.Point) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.data.AddPoints(pts)
	return nil
}

// WriteEvents keeps the run's events, for markers on the charts.
func (o *Output) WriteEvents(evs []metrics.Event) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, e := range evs {
		o.data.AddEvent(metrics.JSONEvent{Type: "event", Event: e.Name, Time: e.Time, Elapsed: e.Elapsed, Tags: e.Tags.Map()})
	}
	return nil
}

// WriteSummary keeps the run's description and summary.
func (o *Output) WriteSummary(info metrics.RunInfo, sum *metrics.Summary) error {
	js := sum.JSON()
	o.mu.Lock()
	defer o.mu.Unlock()
	o.data.Run, o.data.Summary = &info, &js
	return nil
}

// Close writes the report and closes the file.
func (o *Output) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.f == nil {
		return nil
	}
	w := bufio.NewWriter(o.f)
	err := Render(w, o.data.Page(0))
	if err == nil {
		err = w.Flush()
	}
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	o.f = nil
	return err
}

// jsonLine is any line of the JSON lines output: a point, or the run line.
type jsonLine struct {
	metrics.JSONPoint
	Event   string               `json:"event"` // with Type "event": an event line
	Run     *metrics.RunInfo     `json:"run"`
	Summary *metrics.JSONSummary `json:"summary"`
}

// ReadJSON adds the results of a run saved with --out json=FILE, read from
// r (name is the file's name, for errors and the page). When several
// files are read, their points share the time axis (counters add up;
// gauges and percentiles show the highest), and the run's description,
// summary and thresholds are the first file's that has them.
func (d *Data) ReadJSON(r io.Reader, name string) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 64*1024*1024)
	n, points := 0, 0
	for sc.Scan() {
		n++
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		var l jsonLine
		if err := json.Unmarshal(b, &l); err != nil {
			return fmt.Errorf("%s:%d: not a line of amqpjs's JSON output: %v", name, n, err)
		}
		switch {
		case l.Type == "event" && l.Event != "":
			d.AddEvent(metrics.JSONEvent{Type: l.Type, Event: l.Event, Time: l.Time, Elapsed: l.Elapsed, Tags: l.Tags})
		case l.Metric != "":
			if l.Time.IsZero() || l.Type == "" {
				return fmt.Errorf("%s:%d: a point without time or type", name, n)
			}
			d.AddPoint(l.JSONPoint)
			points++
		case l.Run != nil:
			if d.Run == nil {
				d.Run, d.Summary = l.Run, l.Summary
			} else {
				d.extra++
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if points == 0 && d.Run == nil {
		return fmt.Errorf("%s: no point of amqpjs's JSON output (was it written by --out json=FILE?)", name)
	}
	d.Sources = append(d.Sources, name)
	return nil
}
