package tests

// The Kubernetes recipe (deploy/kubernetes) and the container image
// (deploy/Dockerfile), checked without a cluster and without docker (neither
// runs here): the Job's shape as parsed YAML, run.sh's rendering, the pod's
// wrapper run locally around the real binary, kubectl's decoding of the Job
// into Kubernetes' own types, and the Dockerfile's go build line run as is.
// docs/distributed.md says what was and was not run on a real cluster.

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// k8sJob is the part of a batch/v1 Job the tests look at.
type k8sJob struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Spec struct {
		CompletionMode string `yaml:"completionMode"`
		Completions    *int   `yaml:"completions"`
		Parallelism    *int   `yaml:"parallelism"`
		BackoffLimit   *int   `yaml:"backoffLimit"`
		Template       struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec struct {
				RestartPolicy   string `yaml:"restartPolicy"`
				SecurityContext struct {
					RunAsNonRoot *bool  `yaml:"runAsNonRoot"`
					RunAsUser    *int64 `yaml:"runAsUser"`
				} `yaml:"securityContext"`
				Containers []k8sContainer `yaml:"containers"`
				Volumes    []struct {
					Name      string `yaml:"name"`
					ConfigMap *struct {
						Name string `yaml:"name"`
					} `yaml:"configMap"`
					EmptyDir *struct{} `yaml:"emptyDir"`
				} `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type k8sContainer struct {
	Name    string   `yaml:"name"`
	Image   string   `yaml:"image"`
	Command []string `yaml:"command"`
	Args    []string `yaml:"args"`
	Env     []struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom *struct {
			SecretKeyRef *struct {
				Name string `yaml:"name"`
				Key  string `yaml:"key"`
			} `yaml:"secretKeyRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	SecurityContext struct {
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
	} `yaml:"securityContext"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
		ReadOnly  bool   `yaml:"readOnly"`
	} `yaml:"volumeMounts"`
}

type k8sConfigMap struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"`
}

// jobWant is what a rendered Job must say.
type jobWant struct {
	name, image, secret, script, startAt string
	n                                    int
	extra                                []string // arguments given to run.sh after --
}

// checkJob asserts the shape of an amqpjs Job.
func checkJob(t *testing.T, j k8sJob, w jobWant) {
	t.Helper()
	if j.APIVersion != "batch/v1" || j.Kind != "Job" {
		t.Errorf("apiVersion/kind = %s/%s, want batch/v1 Job", j.APIVersion, j.Kind)
	}
	if j.Metadata.Name != w.name {
		t.Errorf("metadata.name = %q, want %q", j.Metadata.Name, w.name)
	}
	s := j.Spec
	if s.CompletionMode != "Indexed" {
		t.Errorf("completionMode = %q, want Indexed", s.CompletionMode)
	}
	if s.Completions == nil || s.Parallelism == nil || *s.Completions != w.n || *s.Parallelism != w.n {
		t.Errorf("completions = %v, parallelism = %v, want both %d", deref(s.Completions), deref(s.Parallelism), w.n)
	}
	if s.BackoffLimit == nil || *s.BackoffLimit != 0 {
		t.Errorf("backoffLimit = %v, want 0 (a retried pod would run its segment twice)", deref(s.BackoffLimit))
	}
	ps := s.Template.Spec
	if ps.RestartPolicy != "Never" {
		t.Errorf("restartPolicy = %q, want Never", ps.RestartPolicy)
	}
	if sc := ps.SecurityContext; sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser == 0 {
		t.Errorf("pod securityContext: runAsNonRoot %v, runAsUser %v; want true and a non-zero user", deref(sc.RunAsNonRoot), deref(sc.RunAsUser))
	}
	if len(ps.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(ps.Containers))
	}
	c := ps.Containers[0]
	if c.Image != w.image {
		t.Errorf("image = %q, want %q", c.Image, w.image)
	}
	if c.SecurityContext.AllowPrivilegeEscalation == nil || *c.SecurityContext.AllowPrivilegeEscalation {
		t.Errorf("container securityContext.allowPrivilegeEscalation = %v, want false", deref(c.SecurityContext.AllowPrivilegeEscalation))
	}
	if len(c.Command) < 3 || c.Command[0] != "/busybox/sh" || c.Command[1] != "-c" {
		t.Errorf("command = %q, want /busybox/sh -c WRAPPER …", c.Command)
	}

	// args: amqpjs run --instance $(JOB_COMPLETION_INDEX)/N --start-at T
	// --summary-export FILE … EXTRA… /scripts/SCRIPT
	a := c.Args
	if len(a) == 0 || a[0] != "run" {
		t.Fatalf("args = %q, want them to start with run", a)
	}
	if v := flagValue(a, "--instance"); v != "$(JOB_COMPLETION_INDEX)/"+strconv.Itoa(w.n) {
		t.Errorf("--instance %q, want $(JOB_COMPLETION_INDEX)/%d (args %q)", v, w.n, a)
	}
	if v := flagValue(a, "--start-at"); v != w.startAt {
		t.Errorf("--start-at %q, want %q", v, w.startAt)
	}
	export := flagValue(a, "--summary-export")
	if export == "" {
		t.Errorf("no --summary-export in args %q", a)
	}
	if want := "/scripts/" + w.script; a[len(a)-1] != want {
		t.Errorf("last arg %q, want the script %q", a[len(a)-1], want)
	}
	if len(w.extra) > 0 {
		got := a[len(a)-1-len(w.extra) : len(a)-1]
		if !reflect.DeepEqual(got, w.extra) {
			t.Errorf("the arguments before the script are %q, want run.sh's extra ones %q", got, w.extra)
		}
	}

	// AMQP_URL from the Secret.
	found := false
	for _, e := range c.Env {
		if e.Name != "AMQP_URL" {
			continue
		}
		found = true
		if e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil ||
			e.ValueFrom.SecretKeyRef.Name != w.secret || e.ValueFrom.SecretKeyRef.Key != "AMQP_URL" {
			t.Errorf("env AMQP_URL is not secretKeyRef{name: %s, key: AMQP_URL}: %+v", w.secret, e)
		}
	}
	if !found {
		t.Error("no env AMQP_URL")
	}

	// Volumes: the script from the ConfigMap NAME-script; with a read-only
	// root file system the summary export and /tmp must be on emptyDirs.
	vols := map[string]string{} // mount path → "configMap:NAME" or "emptyDir"
	for _, m := range c.VolumeMounts {
		for _, v := range ps.Volumes {
			if v.Name != m.Name {
				continue
			}
			switch {
			case v.ConfigMap != nil:
				vols[m.MountPath] = "configMap:" + v.ConfigMap.Name
			case v.EmptyDir != nil:
				vols[m.MountPath] = "emptyDir"
			}
		}
	}
	if got, want := vols["/scripts"], "configMap:"+w.name+"-script"; got != want {
		t.Errorf("/scripts is %q, want %q (volumes %v)", got, want, vols)
	}
	if vols[filepath.Dir(export)] != "emptyDir" {
		t.Errorf("--summary-export %s is not on an emptyDir volume (volumes %v)", export, vols)
	}
	if ro := c.SecurityContext.ReadOnlyRootFilesystem; ro != nil && *ro && vols["/tmp"] != "emptyDir" {
		t.Errorf("read-only root file system without an emptyDir on /tmp (volumes %v)", vols)
	}
	if j.Spec.Template.Metadata.Labels["app.kubernetes.io/instance"] != w.name {
		t.Errorf("pod label app.kubernetes.io/instance = %q, want %q (run.sh finds the pods by it)",
			j.Spec.Template.Metadata.Labels["app.kubernetes.io/instance"], w.name)
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return "unset"
	}
	return *p
}

// flagValue is the argument after flag in args ("" if absent).
func flagValue(args []string, flag string) string {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == flag {
			return args[i+1]
		}
	}
	return ""
}

// decodeDocs parses a multi-document YAML stream into yaml.Nodes.
func decodeDocs(t *testing.T, src []byte) []*yaml.Node {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("invalid YAML: %v\n%s", err, src)
		}
		docs = append(docs, &n)
	}
}

// TestKubernetesJobTemplate parses deploy/kubernetes/job.yaml with its
// placeholders filled in (as run.sh does) and checks the Job's shape.
func TestKubernetesJobTemplate(t *testing.T) {
	tpl, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "kubernetes", "job.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	w := jobWant{name: "amqpjs-t", image: "registry.example/amqpjs:1", secret: "broker", script: "load.js", startAt: "2030-01-02T03:04:05Z", n: 5}
	src := strings.NewReplacer("__NAME__", w.name, "__INSTANCES__", "5", "__START_AT__", w.startAt,
		"__IMAGE__", w.image, "__SECRET__", w.secret, "__SCRIPT__", w.script).Replace(string(tpl))
	if m := regexp.MustCompile(`__[A-Z_]+__`).FindString(src); m != "" {
		t.Fatalf("job.yaml has a placeholder this test (and run.sh) does not fill: %s", m)
	}
	docs := decodeDocs(t, []byte(src))
	if len(docs) != 1 {
		t.Fatalf("job.yaml has %d documents, want 1", len(docs))
	}
	var j k8sJob
	if err := docs[0].Decode(&j); err != nil {
		t.Fatal(err)
	}
	checkJob(t, j, w)
}

// kubectl returns the path of kubectl, installing it with tests/kubectl.sh
// when missing; the test fails if that is not possible.
func kubectl(t *testing.T) string {
	t.Helper()
	out, err := exec.Command(filepath.Join(repoRoot, "tests", "kubectl.sh")).Output()
	if err != nil {
		var stderr []byte
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			stderr = ee.Stderr
		}
		t.Fatalf("no kubectl, and tests/kubectl.sh could not install it: %v\n%s\n"+
			"(install kubectl, e.g. apt-get install kubernetes-client, or set KUBECTL=/path/to/kubectl)", err, stderr)
	}
	return strings.TrimSpace(string(out))
}

// renderK8s runs deploy/kubernetes/run.sh --render ARGS… and returns its
// output (the ConfigMap and the Job).
func renderK8s(t *testing.T, kc string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(repoRoot, "deploy", "kubernetes", "run.sh"), append([]string{"--render"}, args...)...)
	cmd.Env = append(os.Environ(), "KUBECTL="+kc)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("run.sh --render %q: %v\n%s", args, err, stderr.String())
	}
	return out
}

// splitRendered decodes run.sh --render's output: a ConfigMap, then a Job.
func splitRendered(t *testing.T, out []byte) (k8sConfigMap, k8sJob, *yaml.Node) {
	t.Helper()
	docs := decodeDocs(t, out)
	if len(docs) != 2 {
		t.Fatalf("run.sh --render printed %d YAML documents, want 2 (ConfigMap, Job):\n%s", len(docs), out)
	}
	var cm k8sConfigMap
	var j k8sJob
	if err := docs[0].Decode(&cm); err != nil {
		t.Fatal(err)
	}
	if err := docs[1].Decode(&j); err != nil {
		t.Fatal(err)
	}
	return cm, j, docs[1]
}

// TestKubernetesRender runs run.sh --render (no cluster: the ConfigMap comes
// from kubectl create configmap --dry-run=client) for N=3 and N=1 and checks
// both manifests, the script in the ConfigMap byte for byte, and the extra
// arguments given after --.
func TestKubernetesRender(t *testing.T) {
	kc := kubectl(t)
	script := filepath.Join(repoRoot, "scripts", "load-pubsub.js")
	body, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		n     int
		extra []string
	}{
		{n: 3},
		{n: 1, extra: []string{"--vus", "7", `a "quoted" \ arg`}},
	} {
		t.Run(fmt.Sprintf("N=%d", tc.n), func(t *testing.T) {
			w := jobWant{name: "amqpjs-render", image: "amqpjs:test", secret: "amqpjs-broker", script: "load-pubsub.js",
				startAt: "2030-01-02T03:04:05Z", n: tc.n, extra: tc.extra}
			args := []string{"-n", strconv.Itoa(tc.n), "--name", w.name, "--image", w.image, "--start-at", w.startAt, script}
			if len(tc.extra) > 0 {
				args = append(append(args, "--"), tc.extra...)
			}
			cm, j, _ := splitRendered(t, renderK8s(t, kc, args...))
			if cm.APIVersion != "v1" || cm.Kind != "ConfigMap" || cm.Metadata.Name != w.name+"-script" {
				t.Errorf("first document: %s %s %q, want v1 ConfigMap %q", cm.APIVersion, cm.Kind, cm.Metadata.Name, w.name+"-script")
			}
			if cm.Data[w.script] != string(body) {
				t.Errorf("ConfigMap data[%s] is not the script (%d bytes, want %d)", w.script, len(cm.Data[w.script]), len(body))
			}
			checkJob(t, j, w)
		})
	}

	t.Run("start-in", func(t *testing.T) {
		// Without --start-at the start is --start-in seconds from now
		// (by this clock in --render, the API server's in a real run).
		before := time.Now().UTC().Truncate(time.Second)
		_, j, _ := splitRendered(t, renderK8s(t, kc, "--name", "amqpjs-x", "--start-in", "600", script))
		after := time.Now().UTC()
		got, err := time.Parse(time.RFC3339, flagValue(j.Spec.Template.Spec.Containers[0].Args, "--start-at"))
		if err != nil {
			t.Fatal(err)
		}
		if got.Before(before.Add(600*time.Second)) || got.After(after.Add(600*time.Second)) {
			t.Errorf("--start-at %s, want 600 s after the render (%s … %s)", got, before, after)
		}
	})

	t.Run("usage errors", func(t *testing.T) {
		for _, args := range [][]string{
			{"-n", "0", script},
			{"-n", "x", script},
			{"--name", "Not_A_DNS_Label", script},
			{"/nonexistent/script.js"},
			{},
		} {
			cmd := exec.Command(filepath.Join(repoRoot, "deploy", "kubernetes", "run.sh"), append([]string{"--render"}, args...)...)
			cmd.Env = append(os.Environ(), "KUBECTL="+kc)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 2 {
				t.Errorf("run.sh --render %q: %v, want exit 2\n%s", args, err, out)
			}
		}
	})
}

// kubectlRoundTrip has kubectl decode the Job into Kubernetes' own types
// and print it again (kubectl set image --local: offline; it prints nothing
// when nothing changes, so it sets another image, put back before comparing)
// and returns the fields of job that did not survive.
func kubectlRoundTrip(t *testing.T, kc string, job map[string]any) []string {
	t.Helper()
	src, err := json.Marshal(job)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "job.json")
	if err := os.WriteFile(f, src, 0o644); err != nil {
		t.Fatal(err)
	}
	container := func(job any) map[string]any {
		m, _ := job.(map[string]any)
		for _, k := range []string{"spec", "template", "spec"} {
			m, _ = m[k].(map[string]any)
		}
		cs, _ := m["containers"].([]any)
		if len(cs) == 0 {
			return map[string]any{}
		}
		c, _ := cs[0].(map[string]any)
		return c
	}
	image := container(job)["image"]
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, kc, "set", "image", "--local", "-f", f, "-o", "json", "amqpjs=kubectl-check.invalid/amqpjs:1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return []string{fmt.Sprintf("kubectl rejected the Job: %v: %s", err, strings.TrimSpace(stderr.String()))}
	}
	var got any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("kubectl's output: %v\n%s", err, out)
	}
	if c := container(got); c["image"] != "kubectl-check.invalid/amqpjs:1" {
		t.Fatalf("kubectl set image did not set the image of container amqpjs:\n%s", out)
	} else {
		c["image"] = image
	}
	var want any
	if err := json.Unmarshal(src, &want); err != nil {
		t.Fatal(err)
	}
	var lost []string
	subset("", want, got, &lost)
	sort.Strings(lost)
	return lost
}

// subset appends to lost each path of want that got lacks or differs at.
func subset(path string, want, got any, lost *[]string) {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			*lost = append(*lost, path)
			return
		}
		for k, v := range w {
			gv, ok := g[k]
			if !ok {
				*lost = append(*lost, path+"."+k)
				continue
			}
			subset(path+"."+k, v, gv, lost)
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			*lost = append(*lost, path)
			return
		}
		for i := range w {
			subset(fmt.Sprintf("%s[%d]", path, i), w[i], g[i], lost)
		}
	default:
		if !reflect.DeepEqual(want, got) {
			*lost = append(*lost, fmt.Sprintf("%s (%v → %v)", path, want, got))
		}
	}
}

// TestKubernetesKubectlDecodesJob: kubectl (offline) decodes the rendered
// Job into batch/v1's Go types and every field comes out as it went in — a
// misspelt or misplaced field would be dropped, a wrongly typed one
// rejected. The same check on a broken Job shows it can fail.
func TestKubernetesKubectlDecodesJob(t *testing.T) {
	kc := kubectl(t)
	out, err := exec.Command(kc, "version", "--client", "-o", "json").Output()
	if err != nil {
		t.Fatalf("kubectl version: %v", err)
	}
	var v struct {
		ClientVersion struct{ Major, Minor, GitVersion string } `json:"clientVersion"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("kubectl version -o json: %v\n%s", err, out)
	}
	minor, _ := strconv.Atoi(strings.TrimRight(v.ClientVersion.Minor, "+"))
	if v.ClientVersion.Major == "1" && minor < 24 {
		t.Skipf("kubectl %s predates Indexed Jobs (Kubernetes 1.24): its types drop completionMode; "+
			"put a kubectl ≥ 1.24 on PATH or in KUBECTL to run this check", v.ClientVersion.GitVersion)
	}
	_, _, node := splitRendered(t, renderK8s(t, kc, "-n", "3", "--name", "amqpjs-kc", "--image", "amqpjs:test",
		"--start-at", "2030-01-02T03:04:05Z", filepath.Join(repoRoot, "scripts", "load-pubsub.js"), "--", "--quiet"))
	var job map[string]any
	if err := node.Decode(&job); err != nil {
		t.Fatal(err)
	}
	if lost := kubectlRoundTrip(t, kc, job); len(lost) > 0 {
		t.Errorf("kubectl %s does not keep these fields of the Job:\n  %s", v.ClientVersion.GitVersion, strings.Join(lost, "\n  "))
	}

	// The check on broken Jobs: a misspelt field, a wrongly typed one.
	spec := job["spec"].(map[string]any)
	spec["completionMod"] = spec["completionMode"]
	delete(spec, "completionMode")
	if lost := kubectlRoundTrip(t, kc, job); len(lost) == 0 {
		t.Error("a Job with completionMod (misspelt) passed the check")
	}
	spec["completionMode"] = spec["completionMod"]
	delete(spec, "completionMod")
	spec["parallelism"] = "three"
	if lost := kubectlRoundTrip(t, kc, job); len(lost) == 0 {
		t.Error("a Job with parallelism: three passed the check")
	}
}

// podWrapper is the shell program the Job's container runs (command[2]).
func podWrapper(t *testing.T) string {
	t.Helper()
	tpl, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "kubernetes", "job.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var j struct {
		Spec struct {
			Template struct {
				Spec struct {
					Containers []struct {
						Command []string `yaml:"command"`
					} `yaml:"containers"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(tpl, &j); err != nil {
		t.Fatal(err)
	}
	c := j.Spec.Template.Spec.Containers
	if len(c) != 1 || len(c[0].Command) < 4 {
		t.Fatalf("job.yaml: want one container with command [sh, -c, WRAPPER, NAME], got %+v", c)
	}
	return c[0].Command[2]
}

// k8sVarRef is a Kubernetes variable reference in command/args.
var k8sVarRef = regexp.MustCompile(`\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// k8sExpand expands $(VAR) in s as the kubelet does for command and args:
// defined variables are replaced, others left as they are, $$ is $.
func k8sExpand(s string, env map[string]string) string {
	return k8sVarRef.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		if v, ok := env[m[2:len(m)-1]]; ok {
			return v
		}
		return m
	})
}

// podShells are the shells the pod's wrapper is run with here: sh, and
// busybox's (the image's /busybox/sh) when busybox is installed.
func podShells() [][]string {
	shells := [][]string{{"sh"}}
	if _, err := exec.LookPath("busybox"); err == nil {
		shells = append(shells, []string{"busybox", "sh"})
	}
	return shells
}

// pod is the Job's container run locally.
type pod struct {
	cmd            *exec.Cmd
	stdout, stderr *lockedBuffer
	cancel         context.CancelFunc
}

// startPod starts the Job's container locally: SHELL -c WRAPPER amqpjs-pod
// ARGS…, with the built amqpjs first on PATH and JOB_COMPLETION_INDEX set
// ($(JOB_COMPLETION_INDEX) in the args expanded as the kubelet does).
func startPod(t *testing.T, shell []string, index int, args []string) *pod {
	t.Helper()
	bin := t.TempDir()
	if err := os.Symlink(binPath, filepath.Join(bin, "amqpjs")); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"JOB_COMPLETION_INDEX": strconv.Itoa(index)}
	for i, a := range args {
		args[i] = k8sExpand(a, env)
	}
	ctx, cancel := context.WithTimeout(context.Background(), defaultTimeout)
	argv := append(append(shell[1:len(shell):len(shell)], "-c", k8sExpand(podWrapper(t), env), "amqpjs-pod"), args...)
	p := &pod{cmd: exec.CommandContext(ctx, shell[0], argv...), stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, cancel: cancel}
	p.cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "JOB_COMPLETION_INDEX="+strconv.Itoa(index))
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	p.cmd.WaitDelay = 5 * time.Second
	if err := p.cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	return p
}

// wait returns the pod's stdout, stderr and exit code.
func (p *pod) wait(t *testing.T) (string, string, int) {
	t.Helper()
	defer p.cancel()
	err := p.cmd.Wait()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", p.cmd.Path, err)
	}
	return p.stdout.String(), p.stderr.String(), code
}

// runPod runs the Job's container locally to its end (see startPod).
func runPod(t *testing.T, shell []string, index int, args []string) (string, string, int) {
	t.Helper()
	return startPod(t, shell, index, args).wait(t)
}

// extractSummary runs deploy/kubernetes/extract-summary.sh on a pod's log.
func extractSummary(t *testing.T, log string) (dir string, err error) {
	t.Helper()
	dir = t.TempDir()
	cmd := exec.Command(filepath.Join(repoRoot, "deploy", "kubernetes", "extract-summary.sh"), dir)
	cmd.Stdin = strings.NewReader(log)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return dir, fmt.Errorf("%v: %s", err, out)
	}
	return dir, nil
}

// TestKubernetesPodWrapper runs the Job's container program around the real
// binary (no broker needed: the scenarios do not connect): the summary export
// comes out of the log between the markers byte for byte, whatever the script
// printed; exit 99 (a threshold of this share alone) becomes 0, a script
// error stays an error.
func TestKubernetesPodWrapper(t *testing.T) {
	for _, shell := range podShells() {
		t.Run(strings.Join(shell, " "), func(t *testing.T) { testPodWrapper(t, shell) })
	}
}

func testPodWrapper(t *testing.T, shell []string) {
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}

	t.Run("threshold of the share", func(t *testing.T) {
		script := write("share.js", `
export const options = { vus: 2, iterations: 4, thresholds: { iterations: ['count>100'] } };
export default function () { console.log('{ the script prints too'); }
`)
		export := filepath.Join(t.TempDir(), "summary.json")
		stdout, stderr, code := runPod(t, shell, 2, []string{"run", "--summary-export", export, "--quiet", script})
		if code != 0 {
			t.Fatalf("exit %d, want 0 (amqpjs's 99 mapped to 0)\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
		if !strings.Contains(stdout, "=== amqpjs summary-export begin instance=2 exit=99 ===") ||
			!strings.Contains(stderr, "amqpjs merge judges the whole run") {
			t.Errorf("no begin marker with instance=2 exit=99, or no note on stderr\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
		}
		out, err := extractSummary(t, "{ the script prints too\n"+stdout)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(out, "summary-2.json"))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(export)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("extracted summary differs from the export\ngot:\n%s\nwant:\n%s", got, want)
		}
		var s struct {
			ThresholdsFailed bool `json:"thresholds_failed"`
		}
		if err := json.Unmarshal(got, &s); err != nil || !s.ThresholdsFailed {
			t.Errorf("extracted summary: %v, thresholds_failed %v; want valid JSON with true", err, s.ThresholdsFailed)
		}
	})

	t.Run("script error", func(t *testing.T) {
		script := write("broken.js", "throw new Error('broken at load');\nexport default function () {}\n")
		stdout, stderr, code := runPod(t, shell, 0, []string{"run", "--summary-export", filepath.Join(t.TempDir(), "s.json"), script})
		if code != 1 {
			t.Fatalf("exit %d, want 1 (the Job fails)\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
		if !strings.Contains(stdout, "=== amqpjs no summary-export instance=0 exit=1 ===") {
			t.Errorf("no 'no summary-export' marker\nstdout:\n%s", stdout)
		}
		if _, err := extractSummary(t, stdout); err == nil {
			t.Error("extract-summary.sh found a summary in the log of a failed pod")
		}
	})

	t.Run("SIGTERM", func(t *testing.T) {
		// Deleting the Job sends SIGTERM to the container's first process,
		// the shell: amqpjs gets it, stops (exit 130) and its summary is
		// still printed.
		script := write("long.js", `
export const options = { vus: 1, duration: '10m' };
export default async function () { console.log('iterating'); await new Promise((r) => setTimeout(r, 50)); }
`)
		p := startPod(t, shell, 0, []string{"run", "--summary-export", filepath.Join(t.TempDir(), "s.json"), "--quiet", script})
		deadline := time.Now().Add(defaultTimeout)
		for !strings.Contains(p.stdout.String(), "iterating") {
			if time.Now().After(deadline) {
				p.cmd.Process.Kill()
				t.Fatalf("no iteration ran\nstdout:\n%s\nstderr:\n%s", p.stdout.String(), p.stderr.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		stdout, stderr, code := p.wait(t)
		if code != 130 || !strings.Contains(stdout, "=== amqpjs summary-export begin instance=0 exit=130 ===") {
			t.Fatalf("exit %d, want 130 with the summary printed\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
		if _, err := extractSummary(t, stdout); err != nil {
			t.Error(err)
		}
	})

	t.Run("job args", func(t *testing.T) {
		// The Job's own args, expanded as the kubelet does, with the paths
		// of the pod's volumes moved to temporary ones.
		script := write("split.js", "export const options = { vus: 3, iterations: 10 };\nexport default function () {}\n")
		kc := kubectl(t)
		startAt := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339) // late: starts at once
		_, j, _ := splitRendered(t, renderK8s(t, kc, "-n", "3", "--name", "amqpjs-pod", "--start-at", startAt, script))
		args := j.Spec.Template.Spec.Containers[0].Args
		export := filepath.Join(t.TempDir(), "summary.json")
		podExport := flagValue(args, "--summary-export")
		for i, a := range args {
			switch {
			case a == podExport:
				args[i] = export
			case a == "/scripts/split.js":
				args[i] = script
			}
		}
		stdout, stderr, code := runPod(t, shell, 1, args)
		if code != 0 {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
		out, err := extractSummary(t, stdout)
		if err != nil {
			t.Fatalf("%v\nstdout:\n%s", err, stdout)
		}
		b, err := os.ReadFile(filepath.Join(out, "summary-1.json"))
		if err != nil {
			t.Fatal(err)
		}
		var s struct {
			Metrics map[string]struct {
				Values map[string]float64 `json:"values"`
			} `json:"metrics"`
		}
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		// 10 iterations over 3 instances are 4+3+3: instance 1 runs 3.
		if got := s.Metrics["iterations"].Values["count"]; got != 3 {
			t.Errorf("instance 1/3 of 10 iterations ran %v, want 3\n%s", got, b)
		}
	})
}

// TestDockerfileBuild: deploy/Dockerfile is multi-stage, its final stage runs
// amqpjs as a non-root user, and its build stage's go build line, run as is
// (output path aside) on the module's files, gives a static binary that runs.
// (docker itself is not run: no daemon here.)
func TestDockerfileBuild(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	type stage struct {
		from, name string
		lines      []string // instructions after FROM, continuation lines joined
	}
	var stages []*stage
	var cont string
	for _, l := range strings.Split(string(src), "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "#") || (l == "" && cont == "") {
			continue
		}
		if strings.HasSuffix(l, `\`) {
			cont += strings.TrimSuffix(l, `\`) + " "
			continue
		}
		l, cont = cont+l, ""
		f := strings.Fields(l)
		if strings.EqualFold(f[0], "FROM") {
			s := &stage{from: f[1]}
			if len(f) == 4 && strings.EqualFold(f[2], "AS") {
				s.name = f[3]
			}
			stages = append(stages, s)
			continue
		}
		if len(stages) > 0 {
			stages[len(stages)-1].lines = append(stages[len(stages)-1].lines, l)
		}
	}
	if len(stages) < 2 {
		t.Fatalf("%d stages, want a build stage and a final one", len(stages))
	}
	build, final := stages[0], stages[len(stages)-1]
	var goBuild string
	for _, l := range build.lines {
		if strings.HasPrefix(l, "RUN ") && strings.Contains(l, "go build") {
			goBuild = strings.TrimPrefix(l, "RUN ")
		}
	}
	if goBuild == "" || !strings.Contains(goBuild, "CGO_ENABLED=0") {
		t.Fatalf("build stage %q has no RUN CGO_ENABLED=0 go build line", build.from)
	}
	var user, entry string
	copied := false
	for _, l := range final.lines {
		f := strings.Fields(l)
		switch strings.ToUpper(f[0]) {
		case "USER":
			user = f[1]
		case "ENTRYPOINT":
			entry = l
		case "COPY":
			copied = copied || strings.Contains(l, "--from="+build.name)
		}
	}
	if u := strings.Split(user, ":")[0]; u == "" || u == "0" || u == "root" {
		t.Errorf("final stage runs as user %q, want a non-root one", user)
	}
	if !strings.Contains(entry, "amqpjs") || !copied {
		t.Errorf("final stage: ENTRYPOINT %q, COPY --from=%s %v; want the built amqpjs as entrypoint", entry, build.name, copied)
	}
	if strings.Contains(final.from, "golang") {
		t.Errorf("final stage is %s, want a small base without the toolchain", final.from)
	}

	// The build context: the module's files (tracked and new ones, as a
	// checkout would have them).
	ctxDir := t.TempDir()
	ls, err := exec.Command("git", "-C", repoRoot, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	for _, f := range strings.Split(strings.TrimRight(string(ls), "\x00"), "\x00") {
		b, err := os.ReadFile(filepath.Join(repoRoot, f))
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted in the working tree
		}
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(ctxDir, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "amqpjs")
	o := regexp.MustCompile(`(\s-o\s+)(\S+)`)
	if !o.MatchString(goBuild) {
		t.Fatalf("go build line without -o: %s", goBuild)
	}
	line := o.ReplaceAllString(goBuild, "${1}"+out)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", line)
	cmd.Dir = ctxDir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", line, err, b)
	}

	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary has a program interpreter (dynamically linked)")
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
		t.Errorf("the binary needs shared libraries %v (%v)", libs, err)
	}
	res := Run(t, Opts{Bin: out, Args: []string{"version"}})
	if res.Code != 0 || !strings.HasPrefix(res.Stdout, "amqpjs ") {
		t.Errorf("the static binary's `amqpjs version`: %s", res)
	}
}

// TestKubernetesRunScript runs deploy/kubernetes/run.sh's whole path —
// ConfigMap, start instant, Job, wait, logs, extraction, merge, clean-up —
// against tests/testdata/kubernetes/kubectl-standin.sh, which answers for the
// cluster (none runs here) and runs the Job's pods as local processes around
// the built binary. Three pods share 10 iterations; a threshold that each
// pod's share fails (count>=10) passes on the merge, one the whole fails
// makes run.sh exit 99, and a script that throws makes it exit 1.
func TestKubernetesRunScript(t *testing.T) {
	// TODO(merge): drop this guard once `amqpjs merge` is on main.
	if res := Run(t, Opts{Args: []string{"merge", "--help"}}); res.Code != 0 {
		t.Skip("this amqpjs has no merge command yet (built on another branch)")
	}
	kc := kubectl(t)
	bin := t.TempDir()
	if err := os.Symlink(binPath, filepath.Join(bin, "amqpjs")); err != nil {
		t.Fatal(err)
	}
	run := func(t *testing.T, script string) (outDir, calls, stderr string, code int) {
		t.Helper()
		dir := t.TempDir()
		src := filepath.Join(dir, "scenario.js")
		if err := os.WriteFile(src, []byte(script), 0o644); err != nil {
			t.Fatal(err)
		}
		state := filepath.Join(dir, "state")
		if err := os.MkdirAll(filepath.Join(state, "pods"), 0o755); err != nil {
			t.Fatal(err)
		}
		outDir = filepath.Join(dir, "out")
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, filepath.Join(repoRoot, "deploy", "kubernetes", "run.sh"),
			"-n", "3", "--name", "amqpjs-standin", "--start-in", "1", "--out", outDir, src)
		cmd.Env = append(os.Environ(),
			"KUBECTL="+filepath.Join(repoRoot, "tests", "testdata", "kubernetes", "kubectl-standin.sh"),
			"REAL_KUBECTL="+kc, "STANDIN_STATE="+state, "AMQPJS="+filepath.Join(bin, "amqpjs"),
			"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
		var errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &errb, &errb
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		c, _ := os.ReadFile(filepath.Join(state, "calls"))
		return outDir, string(c), errb.String(), code
	}
	count := func(t *testing.T, file string) float64 {
		t.Helper()
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var s struct {
			Metrics map[string]struct {
				Values map[string]float64 `json:"values"`
			} `json:"metrics"`
		}
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		return s.Metrics["iterations"].Values["count"]
	}

	t.Run("merged thresholds pass", func(t *testing.T) {
		out, calls, stderr, code := run(t, `
export const options = { vus: 3, iterations: 10, thresholds: { iterations: ['count>=10'] } };
export default function () { console.log('iteration', __VU, __ITER); }
`)
		if code != 0 {
			t.Fatalf("run.sh exit %d, want 0 (each pod's share fails count>=10, the merge passes)\n%s", code, stderr)
		}
		sum := 0.0
		for i := range 3 {
			sum += count(t, filepath.Join(out, fmt.Sprintf("summary-%d.json", i)))
		}
		if sum != 10 || count(t, filepath.Join(out, "merged.json")) != 10 {
			t.Errorf("iterations: the pods' sum %v, merged %v; want 10 and 10", sum, count(t, filepath.Join(out, "merged.json")))
		}
		for _, want := range []string{"delete job amqpjs-standin", "delete configmap amqpjs-standin-script"} {
			if !strings.Contains(calls, want) {
				t.Errorf("run.sh did not clean up (%q); its kubectl calls:\n%s", want, calls)
			}
		}
	})

	t.Run("merged thresholds fail", func(t *testing.T) {
		_, _, stderr, code := run(t, `
export const options = { vus: 3, iterations: 10, thresholds: { iterations: ['count>10'] } };
export default function () {}
`)
		if code != 99 {
			t.Fatalf("run.sh exit %d, want 99 (merge's verdict)\n%s", code, stderr)
		}
	})

	t.Run("script error", func(t *testing.T) {
		_, _, stderr, code := run(t, "throw new Error('broken at load');\nexport default function () {}\n")
		if code != 1 || !strings.Contains(stderr, "left no summary export") || !strings.Contains(stderr, "broken at load") {
			t.Fatalf("run.sh exit %d, want 1 with the pods' error shown\n%s", code, stderr)
		}
	})
}

// TestKubernetesExtractSummary: deploy/kubernetes/extract-summary.sh takes
// the last complete block between the markers, with the instance from the
// begin marker, whatever surrounds it; no complete block is an error.
func TestKubernetesExtractSummary(t *testing.T) {
	begin := func(i, code int) string {
		return fmt.Sprintf("=== amqpjs summary-export begin instance=%d exit=%d ===\n", i, code)
	}
	const end = "=== amqpjs summary-export end ===\n"
	for _, tc := range []struct {
		name, log string
		file      string // "" when there is no summary to find
		want      string
	}{
		{"around noise", "the script's output\n" + begin(2, 99) + "{\n  \"a\": 1\n}\n" + end + "a late stderr line\n", "summary-2.json", "{\n  \"a\": 1\n}\n"},
		{"no final newline", begin(0, 0) + "{\"a\": 1}" + end, "summary-0.json", "{\"a\": 1}\n"},
		{"the last block", begin(1, 0) + "{\"old\": 1}\n" + end + begin(1, 0) + "{\"new\": 1}\n" + end, "summary-1.json", "{\"new\": 1}\n"},
		{"cut off", "x\n" + begin(1, 0) + "{\"a\":\n", "", ""},
		{"none", "=== amqpjs no summary-export instance=0 exit=1 ===\n", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, err := extractSummary(t, tc.log)
			if tc.file == "" {
				if err == nil {
					t.Fatal("found a summary in a log without a complete block")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(dir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("%s = %q, want %q", tc.file, got, tc.want)
			}
		})
	}
}
