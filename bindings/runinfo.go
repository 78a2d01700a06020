package bindings

import (
	"fmt"
	"strings"

	"github.com/amqpjs/amqpjs/amqp"
	"github.com/amqpjs/amqpjs/runtime/metrics"
)

// noteBroker records the broker's product and version (from its
// connection.start properties) in the run's registry, for the HTML report.
// Nothing outside scenario runs. Loop only.
func (m *module) noteBroker(conn *amqp.Conn) {
	reg := m.rt.Metrics()
	if reg == nil || reg.Info(metrics.InfoBroker) != "" {
		return
	}
	props := conn.ServerProperties()
	str := func(k string) string {
		switch v := props[k].(type) {
		case string:
			return v
		case []byte:
			return string(v)
		}
		return ""
	}
	product, version := str("product"), str("version")
	if product == "" && version == "" {
		return
	}
	reg.SetInfo(metrics.InfoBroker, strings.TrimSpace(fmt.Sprintf("%s %s", product, version)))
}
