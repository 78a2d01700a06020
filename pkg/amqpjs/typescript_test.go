package amqpjs_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/amqpjs/amqpjs/pkg/amqpjs"
)

// tsconfig is the configuration docs/embedding.md recommends for scenarios.
const tsconfig = `{
  "compilerOptions": {
    "target": "es2022",
    "lib": ["es2022"],
    "module": "es2022",
    "moduleResolution": "node",
    "esModuleInterop": true,
    "strict": true,
    "noEmit": true,
    "types": []
  },
  "include": ["*.ts", "types/*.d.ts"]
}
`

func TestWriteTypes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "types")
	if err := amqpjs.WriteTypes(dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"aioamqp.d.ts", "globals.d.ts", "buffer.d.ts", "modules.d.ts", "metrics.d.ts", "faults.d.ts"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Error(err)
		}
	}
}

// TestTypeScriptCompiles type-checks the definitions, and a scenario using
// most of the API against them, with TypeScript's own compiler (npx -y -p
// typescript@5). It is skipped when npx is missing or cannot fetch
// TypeScript; the name-for-name checks of the definitions against the
// runtime (bindings/types, runtime/types) do not need it.
func TestTypeScriptCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	npx, err := exec.LookPath("npx")
	if err != nil {
		t.Skip("npx not found: TypeScript check skipped")
	}
	dir := t.TempDir()
	if err := amqpjs.WriteTypes(filepath.Join(dir, "types")); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join("testdata", "ts", "scenario.ts"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "scenario.ts"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tsconfig.json"), []byte(tsconfig), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npx, "-y", "-p", "typescript@5", "tsc", "-p", dir)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "npm_config_update_notifier=false", "npm_config_fund=false", "npm_config_audit=false")
	out, err := cmd.CombinedOutput()
	if err == nil {
		return
	}
	if !strings.Contains(string(out), "error TS") {
		t.Skipf("could not run TypeScript (offline?): %v\n%s", err, out)
	}
	t.Errorf("tsc found errors:\n%s", out)
}
