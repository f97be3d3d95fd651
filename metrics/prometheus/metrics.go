package sioprometheus

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/siokit/siokit/core/hooks"
)

// Options configures [New]. Zero fields take the default in their comment.
type Options struct {
	// Namespace prefixes every metric name. Default "siokit".
	Namespace string
	// MaxEventNames bounds the distinct event names used as label values:
	// names past the first MaxEventNames are counted as "_other", so that
	// clients sending ever new names cannot grow the series without bound.
	// Default 100.
	MaxEventNames int
	// AckBuckets are the buckets of the ack latency histogram, in seconds.
	// Default prometheus.DefBuckets.
	AckBuckets []float64
}

// Metrics holds the collectors; it is a [prometheus.Collector] to
// register, and [Metrics.Hooks] feeds it. All methods are safe for
// concurrent use.
type Metrics struct {
	maxNames int

	connections      *prometheus.GaugeVec   // transport
	connectionsTotal *prometheus.CounterVec // transport
	disconnects      *prometheus.CounterVec // reason
	upgrades         prometheus.Counter
	sockets          *prometheus.GaugeVec   // namespace
	socketsTotal     *prometheus.CounterVec // namespace, transport
	eventsIn         *prometheus.CounterVec // namespace, event
	eventsOut        *prometheus.CounterVec // namespace, event
	bytesIn          *prometheus.CounterVec // namespace
	bytesOut         *prometheus.CounterVec // namespace
	ackLatency       *prometheus.HistogramVec
	broadcasts       *prometheus.CounterVec // namespace
	recipients       *prometheus.CounterVec // namespace
	errors           *prometheus.CounterVec // kind
	managerMessages  *prometheus.CounterVec // namespace, direction, kind
	managerBytes     *prometheus.CounterVec // namespace, direction

	mu    sync.RWMutex
	names map[string]struct{}
}

var _ prometheus.Collector = (*Metrics)(nil)

// New returns the collectors; register them (reg.MustRegister(m)) and set
// m.Hooks() as socketio.Options.Hooks.
func New(opts *Options) *Metrics {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Namespace == "" {
		o.Namespace = "siokit"
	}
	if o.MaxEventNames <= 0 {
		o.MaxEventNames = 100
	}
	if o.AckBuckets == nil {
		o.AckBuckets = prometheus.DefBuckets
	}
	ns := o.Namespace
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: name, Help: help}, labels)
	}
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: name, Help: help}, labels)
	}
	return &Metrics{
		maxNames:         o.MaxEventNames,
		connections:      gauge("connections", "Open Engine.IO connections by current transport.", "transport"),
		connectionsTotal: counter("connections_opened_total", "Engine.IO connections opened, by first transport.", "transport"),
		disconnects:      counter("connections_closed_total", "Engine.IO connections closed, by reason.", "reason"),
		upgrades:         prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "upgrades_total", Help: "Transport upgrades."}),
		sockets:          gauge("sockets", "Sockets connected, by namespace.", "namespace"),
		socketsTotal:     counter("sockets_connected_total", "Namespace connections accepted, by namespace and transport.", "namespace", "transport"),
		eventsIn:         counter("events_received_total", "Events received from clients.", "namespace", "event"),
		eventsOut:        counter("events_sent_total", "Events queued to clients (a broadcast counts once per recipient).", "namespace", "event"),
		bytesIn:          counter("received_bytes_total", "Payload bytes received from clients (JSON data and binary).", "namespace"),
		bytesOut:         counter("sent_bytes_total", "Payload bytes queued to clients.", "namespace"),
		ackLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "ack_latency_seconds",
			Help: "Time from an EmitWithAck to the client's acknowledgement.", Buckets: o.AckBuckets}, []string{"namespace"}),
		broadcasts:      counter("broadcasts_total", "Broadcasts delivered by this process.", "namespace"),
		recipients:      counter("broadcast_recipients_total", "Local recipients of broadcasts.", "namespace"),
		errors:          counter("errors_total", "Errors, by kind (parse, handler, connect_refused, send).", "kind"),
		managerMessages: counter("manager_messages_total", "Messages a pub/sub manager published or received.", "namespace", "direction", "kind"),
		managerBytes:    counter("manager_bytes_total", "Bytes a pub/sub manager published or received.", "namespace", "direction"),
		names:           make(map[string]struct{}),
	}
}

func (m *Metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.connections, m.connectionsTotal, m.disconnects, m.upgrades, m.sockets,
		m.socketsTotal, m.eventsIn, m.eventsOut, m.bytesIn, m.bytesOut, m.ackLatency, m.broadcasts,
		m.recipients, m.errors, m.managerMessages, m.managerBytes}
}

// Describe implements [prometheus.Collector].
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.collectors() {
		c.Describe(ch)
	}
}

// Collect implements [prometheus.Collector].
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.collectors() {
		c.Collect(ch)
	}
}

// eventLabel bounds the event names used as label values.
func (m *Metrics) eventLabel(name string) string {
	m.mu.RLock()
	_, ok := m.names[name]
	n := len(m.names)
	m.mu.RUnlock()
	if ok {
		return name
	}
	if n >= m.maxNames {
		return "_other"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.names) >= m.maxNames {
		return "_other"
	}
	m.names[name] = struct{}{}
	return name
}

// Hooks returns the hooks that feed the collectors; combine them with
// others with [hooks.Merge].
func (m *Metrics) Hooks() *hooks.Hooks {
	return &hooks.Hooks{
		ConnOpened: func(tr string) {
			m.connections.WithLabelValues(tr).Inc()
			m.connectionsTotal.WithLabelValues(tr).Inc()
		},
		ConnClosed: func(tr, reason string) {
			m.connections.WithLabelValues(tr).Dec()
			m.disconnects.WithLabelValues(reason).Inc()
		},
		Upgraded: func(from, to string) {
			m.connections.WithLabelValues(from).Dec()
			m.connections.WithLabelValues(to).Inc()
			m.upgrades.Inc()
		},
		SocketConnected: func(nsp, tr string) {
			m.sockets.WithLabelValues(nsp).Inc()
			m.socketsTotal.WithLabelValues(nsp, tr).Inc()
		},
		SocketDisconnected: func(nsp, _, _ string) { m.sockets.WithLabelValues(nsp).Dec() },
		PacketIn: func(p hooks.Packet) {
			m.bytesIn.WithLabelValues(p.Namespace).Add(float64(p.Bytes))
			if p.Event != "" {
				m.eventsIn.WithLabelValues(p.Namespace, m.eventLabel(p.Event)).Inc()
			}
		},
		PacketOut: func(p hooks.Packet) {
			m.bytesOut.WithLabelValues(p.Namespace).Add(float64(p.Bytes))
			if p.Event != "" {
				m.eventsOut.WithLabelValues(p.Namespace, m.eventLabel(p.Event)).Inc()
			}
		},
		AckLatency: func(nsp string, d time.Duration) { m.ackLatency.WithLabelValues(nsp).Observe(d.Seconds()) },
		Broadcast: func(nsp string, n, _ int) {
			m.broadcasts.WithLabelValues(nsp).Inc()
			m.recipients.WithLabelValues(nsp).Add(float64(n))
		},
		Error: func(kind string, _ error) { m.errors.WithLabelValues(kind).Inc() },
		ManagerPublish: func(nsp, kind string, size int) {
			m.managerMessages.WithLabelValues(nsp, "publish", kind).Inc()
			m.managerBytes.WithLabelValues(nsp, "publish").Add(float64(size))
		},
		ManagerReceive: func(nsp, kind string, size int) {
			m.managerMessages.WithLabelValues(nsp, "receive", kind).Inc()
			m.managerBytes.WithLabelValues(nsp, "receive").Add(float64(size))
		},
	}
}
