package engineio

import (
	"bytes"
	"io"
	"testing"
)

// writeRecorder is a client WebSocket that records how each message was
// written: whole (WriteMessage) or in parts (NextWriter).
type writeRecorder struct {
	whole [][]byte
	parts [][]byte
}

func (r *writeRecorder) WriteMessage(_ int, data []byte) error {
	r.whole = append(r.whole, data)
	return nil
}

func (r *writeRecorder) NextWriter(int) (io.WriteCloser, error) { return partWriter{r}, nil }

type partWriter struct{ r *writeRecorder }

func (w partWriter) Write(p []byte) (int, error) {
	w.r.parts = append(w.r.parts, bytes.Clone(p))
	return len(p), nil
}
func (partWriter) Close() error { return nil }

func TestMessageFrame(t *testing.T) {
	frame := append([]byte{0}, `2["chat","hi"]`...)
	p := MessageFrame(frame)
	if p.Type != PacketMessage || string(p.Data) != `2["chat","hi"]` || p.Binary {
		t.Fatalf("MessageFrame gave %+v", p)
	}
	tests := []struct {
		name      string
		p         Packet
		whole     string // written as one message from the packet's bytes
		partsJoin string // or in parts
	}{
		{"frame", p, `42["chat","hi"]`, ""},
		{"plain message", Packet{Type: PacketMessage, Data: []byte("hello")}, "", "4hello"},
		{"ping", Packet{Type: PacketPing}, "", "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r writeRecorder
			if err := writePacket(&r, tt.p); err != nil {
				t.Fatal(err)
			}
			if got := string(bytes.Join(r.whole, nil)); got != tt.whole {
				t.Errorf("written whole: %q, want %q", got, tt.whole)
			}
			if got := string(bytes.Join(r.parts, nil)); got != tt.partsJoin {
				t.Errorf("written in parts: %q, want %q", got, tt.partsJoin)
			}
			if tt.whole != "" && &r.whole[0][0] != &frame[0] {
				t.Error("the frame was copied before writing")
			}
		})
	}
	// On long-polling the packet is its type and Data, as any other.
	if got := string(AppendPacket(nil, p)); got != `42["chat","hi"]` {
		t.Errorf("AppendPacket = %q", got)
	}
}
