// Package testutil holds helpers shared by the tests of several packages.
// Only _test.go files import it.
package testutil

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

// SyncBuffer is a bytes.Buffer safe for concurrent use: the output of a
// runtime or a process written on one goroutine while the test reads it on
// another. The zero value is ready to use.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// WriteFiles writes files (slash-separated path relative to dir → content)
// under dir, making the directories they need.
func WriteFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, src := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// GrafanaDashboard is what the tests read of docs/grafana/amqpjs.json
// (with ReadJSON): the panels' queries and the template variables.
type GrafanaDashboard struct {
	Panels []struct {
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
	Templating struct {
		List []struct {
			Name       string `json:"name"`
			Type       string `json:"type"`
			Definition string `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
}

// ReadJSON reads the JSON file at path into a T.
func ReadJSON[T any](t testing.TB, path string) T {
	t.Helper()
	var v T
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

// AwaitDone runs f and returns the error its done callback gets, failing
// the test (what names the call) when done is not called within timeout.
func AwaitDone(t testing.TB, what string, timeout time.Duration, f func(done func(error))) error {
	t.Helper()
	c := make(chan error, 1)
	f(func(err error) { c <- err })
	select {
	case err := <-c:
		return err
	case <-time.After(timeout):
		t.Fatalf("%s: no answer within %s", what, timeout)
		return nil
	}
}

// Received gives what a table value sent becomes once received back: every
// integer an int64, times in UTC, with arrays and nested tables (a
// map[string]any, which amqp.Table is) done the same way, into new ones.
func Received(v any) any {
	switch x := v.(type) {
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case int:
		return int64(x)
	case uint32:
		return int64(x)
	case time.Time:
		return x.UTC()
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = Received(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = Received(e)
		}
		return out
	}
	return v
}

// HeapInUse is the heap in use after garbage collection (twice, so that
// what the first one finalised is gone too): what memory tests and
// benchmarks compare before and after.
func HeapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}
