//go:build unix

package runtime

import (
	"path/filepath"
	"testing"

	"github.com/amqpjs/amqpjs/internal/testutil"
)

func TestProcessCPUUsage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{"main.js": `
		const a = process.cpuUsage();
		let x = 0;
		for (let i = 0; i < 2e6; i++) x += i;
		const d = process.cpuUsage(a);
		console.log(Number.isInteger(a.user), Number.isInteger(a.system), a.user + a.system > 0);
		console.log(d.user >= 0, d.system >= 0, d.user + d.system < a.user + a.system + 1e7);`})
	res := runPath(t, filepath.Join(dir, "main.js"))
	if res.err != nil {
		t.Fatalf("run: %v", res.err)
	}
	wantOut(t, res.stdout, "true true true\ntrue true true\n")
}
