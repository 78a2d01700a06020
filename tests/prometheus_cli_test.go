package tests

import (
	"strings"
	"testing"
)

// TestPrometheusOutFlagErrors: a bad --out prometheus=… (URL or
// environment) is a usage error, exit 2, and prints no password.
func TestPrometheusOutFlagErrors(t *testing.T) {
	t.Parallel()
	path := WriteScript(t, "prom-flags.js", `export default function () {}`)
	for _, c := range []struct {
		url, env, want string
	}{
		{"localhost:9090", "", "want an http:// or https:// URL"},
		{"ftp://u:s3cret@host/x", "", "want an http:// or https:// URL"},
		{"http://u:s3cret@host/x", "AMQPJS_PROMETHEUS_BEARER_TOKEN=t", "basic auth and a bearer token both given"},
		{"http://host/x", "AMQPJS_PROMETHEUS_PUSH_INTERVAL=often", "AMQPJS_PROMETHEUS_PUSH_INTERVAL"},
		{"https://host/x", "AMQPJS_PROMETHEUS_CA_FILE=/nonexistent/ca.pem", "CA file"},
	} {
		var env []string
		if c.env != "" {
			env = []string{c.env}
		}
		res := Run(t, Opts{Args: []string{"run", "--out", "prometheus=" + c.url, path}, Env: env})
		if res.Code != 2 || !strings.Contains(res.Stderr, c.want) || strings.Contains(res.Stderr, "s3cret") {
			t.Errorf("--out prometheus=%s with %s: want exit 2 and %q, no password\n%s", c.url, c.env, c.want, res)
		}
	}
}
