//go:build integration

package mgmt

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// apiURL is the broker's management API (tests/broker.sh enables it).
func apiURL() string {
	if u := os.Getenv("AMQPJS_MANAGEMENT_URL"); u != "" {
		return u
	}
	return "http://127.0.0.1:15672"
}

func newClient(t *testing.T) *Client {
	t.Helper()
	c, err := New(Config{URL: apiURL(), User: "guest", Password: "guest"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// api makes a raw request (the test's own way to declare, publish and
// delete, independent of the client under test).
func api(t *testing.T, method, path, body string) {
	t.Helper()
	req, err := http.NewRequest(method, apiURL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("guest", "guest")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: HTTP %d", method, path, resp.StatusCode)
	}
	http.DefaultClient.CloseIdleConnections()
}

func uniqueQueue(t *testing.T) string {
	name := fmt.Sprintf("mgmt-test-%s-%d", t.Name(), time.Now().UnixNano())
	api(t, http.MethodPut, "/api/queues/%2F/"+name, `{"durable":false,"auto_delete":false}`)
	t.Cleanup(func() { api(t, http.MethodDelete, "/api/queues/%2F/"+name, "") })
	return name
}

// waitQueue polls until the broker's statistics show ok (they refresh every
// collect_statistics_interval, 5 s by default), at most a minute.
func waitQueue(t *testing.T, c *Client, name string, ok func(*Queue) bool) *Queue {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		q, err := c.Queue(context.Background(), "", name)
		if err != nil {
			t.Fatal(err)
		}
		if ok(q) {
			return q
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue %s never reached the expected state; last: %+v", name, *q)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func TestQueueCountsMessages(t *testing.T) {
	c := newClient(t)
	name := uniqueQueue(t)
	const n = 7
	for i := range n {
		api(t, http.MethodPost, "/api/exchanges/%2F/amq.default/publish",
			fmt.Sprintf(`{"properties":{},"routing_key":%q,"payload":"m%d","payload_encoding":"string"}`, name, i))
	}
	q := waitQueue(t, c, name, func(q *Queue) bool { return q.HasStats && q.Messages == n })
	if q.Ready != n || q.Unacknowledged != 0 || q.Consumers != 0 {
		t.Errorf("ready %d, unacknowledged %d, consumers %d; want %d, 0, 0", q.Ready, q.Unacknowledged, q.Consumers, n)
	}
	if q.Name != name || q.Vhost != "/" || q.Durable || len(q.Raw) == 0 {
		t.Errorf("queue %+v: want name %s, vhost /, not durable, raw JSON", q, name)
	}

	for _, counts := range []bool{true, false} {
		qs, err := c.Queues(context.Background(), "", counts)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, x := range qs {
			if x.Name == name {
				found = true
				if x.Messages != n {
					t.Errorf("Queues(counts=%v): %s has %d messages, want %d", counts, name, x.Messages, n)
				}
			}
		}
		if !found {
			t.Errorf("Queues(counts=%v) lacks %s", counts, name)
		}
	}
	all, err := c.Queues(context.Background(), "*", true)
	if err != nil || len(all) == 0 {
		t.Errorf("Queues(*): %d queues, %v", len(all), err)
	}
}

func TestOverviewAndNodes(t *testing.T) {
	c := newClient(t)
	o, err := c.Overview(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if o.RabbitMQVersion == "" || o.Node == "" || o.Queues < 0 || len(o.Raw) == 0 {
		t.Errorf("overview %+v: want a version, a node name and the raw JSON", o)
	}
	nodes, err := c.Nodes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) == 0 || nodes[0].Name != o.Node || nodes[0].MemUsed <= 0 || nodes[0].MemLimit <= 0 {
		t.Errorf("nodes %+v: want node %s with its memory use", nodes, o.Node)
	}
}

func TestMissingQueueIs404(t *testing.T) {
	c := newClient(t)
	_, err := c.Queue(context.Background(), "", "no-such-queue-mgmt-test")
	var me *Error
	if !errors.As(err, &me) || me.Status != http.StatusNotFound {
		t.Fatalf("Queue(missing) = %v, want an *Error with Status 404", err)
	}
	want := "queue 'no-such-queue-mgmt-test' in vhost '/' not found (HTTP 404 from GET " + apiURL() + "/api/queues/%2F/no-such-queue-mgmt-test)"
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	err = c.CloseConnection(context.Background(), "no such connection", "x")
	if !errors.As(err, &me) || me.Status != http.StatusNotFound || !strings.Contains(err.Error(), "connection 'no such connection' not found") {
		t.Errorf("CloseConnection(missing) = %v, want a 404 naming the connection", err)
	}
}

func TestBadCredentialsAre401(t *testing.T) {
	c, err := New(Config{URL: apiURL(), User: "guest", Password: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Overview(context.Background())
	var me *Error
	if !errors.As(err, &me) || me.Status != http.StatusUnauthorized {
		t.Fatalf("Overview with a bad password = %v, want an *Error with Status 401", err)
	}
	for _, want := range []string{"HTTP 401 Unauthorized", "Login failed", "check the user and password"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Errorf("error %q shows the password", err)
	}
}
