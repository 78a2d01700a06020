package runtime

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"testing"
	"time"
)

type codeError struct{ code int }

func (e *codeError) Error() string { return "code" }
func (e *codeError) ExitCode() int { return e.code }

// TestExitCode is the one mapping of errors to exit codes (docs/api.md §1),
// on Go error values; TestExitCodes covers what scripts do.
func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, ExitOK},
		{"a script error", errors.New("boom"), ExitFailure},
		{"process.exit(3)", &ExitError{Code: 3}, 3},
		{"a syntax error", &SyntaxError{File: "a.js", Line: 1}, ExitUsage},
		{"an unreadable script", &fs.PathError{Op: "open", Path: "a.js", Err: fs.ErrNotExist}, ExitUsage},
		{"a Go panic", &InternalError{Where: "x"}, ExitInternal},
		{"an error with its exit code", fmt.Errorf("w: %w", &codeError{code: 99}), 99},
		{"--timeout", &TimeoutError{After: time.Second}, ExitFailure},
		{"a deadline", fmt.Errorf("w: %w", context.DeadlineExceeded), ExitFailure},
		{"Ctrl-C", ErrInterrupted, ExitInterrupted},
		{"Ctrl-C, wrapped", fmt.Errorf("w: %w", ErrInterrupted), ExitInterrupted},
		{"a cancelled context", context.Canceled, ExitInterrupted},
	} {
		if got := ExitCode(tc.err); got != tc.want {
			t.Errorf("%s: ExitCode(%v) = %d, want %d", tc.name, tc.err, got, tc.want)
		}
	}
}
