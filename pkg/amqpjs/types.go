package amqpjs

import (
	"io/fs"
	"os"
	"path/filepath"

	btypes "github.com/amqpjs/amqpjs/bindings/types"
	rtypes "github.com/amqpjs/amqpjs/runtime/types"
)

// WriteTypes writes the TypeScript definitions of everything a script can
// use — aioamqp.d.ts (the aioamqp module), globals.d.ts, buffer.d.ts,
// modules.d.ts (assert, util, timers/promises, url) and metrics.d.ts
// ('amqpjs/metrics') — into dir, creating it. Include them in a
// tsconfig.json to get editor completion and type checks for scenarios;
// see docs/embedding.md. Existing files of those names are replaced.
func WriteTypes(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, fsys := range []fs.FS{btypes.FS, rtypes.FS} {
		names, err := fs.Glob(fsys, "*.d.ts")
		if err != nil {
			return err
		}
		for _, name := range names {
			b, err := fs.ReadFile(fsys, name)
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}
