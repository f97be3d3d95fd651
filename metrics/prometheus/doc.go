// Package sioprometheus exports a siokit Socket.IO server's activity as
// Prometheus metrics, with client_golang collectors fed by the server's
// instrumentation hooks (package hooks):
//
//	m := sioprometheus.New(nil)
//	prometheus.MustRegister(m)
//	srv := socketio.NewServer(&socketio.Options{Hooks: m.Hooks()})
//	http.Handle("/metrics", promhttp.Handler())
//
// # Metrics
//
// With the default "siokit" prefix: siokit_connections{transport} (open
// Engine.IO connections, moved from polling to websocket on upgrade),
// siokit_connections_opened_total{transport},
// siokit_connections_closed_total{reason}, siokit_upgrades_total,
// siokit_sockets{namespace} (connected sockets),
// siokit_sockets_connected_total{namespace,transport},
// siokit_events_received_total{namespace,event} (each event from a client
// counts once), siokit_events_sent_total{namespace,event} (a broadcast
// counts once per recipient), siokit_received_bytes_total{namespace} and
// siokit_sent_bytes_total{namespace} (payload bytes: JSON data and binary),
// siokit_ack_latency_seconds{namespace} (histogram of EmitWithAck round
// trips), siokit_broadcasts_total{namespace},
// siokit_broadcast_recipients_total{namespace}, siokit_errors_total{kind},
// siokit_manager_messages_total{namespace,direction,kind} and
// siokit_manager_bytes_total{namespace,direction} (pub/sub managers).
//
// # Cardinality
//
// Event names come from clients: past [Options].MaxEventNames distinct
// names (100 by default) further names are counted under "_other".
// Namespaces are bounded by the server's own (a dynamic parent namespace
// can create many: prefer a bounded pattern).
package sioprometheus
