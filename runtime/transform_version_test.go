package runtime

import (
	"os"
	"regexp"
	"testing"

	"github.com/amqpjs/amqpjs/internal/testutil"
)

// TestEsbuildVersion checks that the Go module esbuild (go.mod: the native
// and wasip1 builds) and the npm package esbuild (wasm/host: the js/wasm
// build, see transform_js.go) are the same version, esbuildVersion, so that
// both builds compile the scripts alike.
func TestEsbuildVersion(t *testing.T) {
	gomod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*(?:require\s+)?github\.com/evanw/esbuild v(\S+)`).FindSubmatch(gomod)
	if m == nil {
		t.Fatal("go.mod: no github.com/evanw/esbuild")
	}
	if string(m[1]) != esbuildVersion {
		t.Errorf("go.mod has esbuild v%s, esbuildVersion is %s", m[1], esbuildVersion)
	}

	pkg := testutil.ReadJSON[struct {
		Dependencies map[string]string `json:"dependencies"`
	}](t, "../wasm/host/package.json")
	if v := pkg.Dependencies["esbuild"]; v != esbuildVersion {
		t.Errorf("wasm/host/package.json depends on esbuild %q, want exactly %q", v, esbuildVersion)
	}

	lock := testutil.ReadJSON[struct {
		Packages map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}](t, "../wasm/host/package-lock.json")
	if v := lock.Packages["node_modules/esbuild"].Version; v != esbuildVersion {
		t.Errorf("wasm/host/package-lock.json locks esbuild %q, want %q", v, esbuildVersion)
	}
}
