package parser

import (
	"errors"
	"testing"
)

func TestPacketValidate(t *testing.T) {
	tests := []struct {
		name string
		p    Packet
		ok   bool
	}{
		{"event", Packet{Type: Event, Namespace: "/", Data: []byte(`["hi",1]`)}, true},
		{"binary event", Packet{Type: BinaryEvent, Namespace: "/chat", Data: []byte(`["b",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{1}}}, true},
		{"ack", Packet{Type: Ack, Namespace: "/", ID: 3, HasID: true, Data: []byte(`[]`)}, true},
		{"connect without auth", Packet{Type: Connect, Namespace: "/"}, true},
		{"connect error string", Packet{Type: ConnectError, Namespace: "/", Data: []byte(`"no"`)}, true},
		{"unknown type", Packet{Type: 7, Namespace: "/"}, false},
		{"empty namespace", Packet{Type: Connect}, false},
		{"relative namespace", Packet{Type: Connect, Namespace: "chat"}, false},
		{"comma in namespace", Packet{Type: Connect, Namespace: "/a,b"}, false},
		{"control in namespace", Packet{Type: Connect, Namespace: "/a\nb"}, false},
		{"bad utf-8 namespace", Packet{Type: Connect, Namespace: "/\xff"}, false},
		{"long namespace", Packet{Type: Connect, Namespace: "/" + string(make([]byte, 600))}, false},
		{"ack without id", Packet{Type: Ack, Namespace: "/", Data: []byte(`[]`)}, false},
		{"id on connect", Packet{Type: Connect, Namespace: "/", HasID: true}, false},
		{"id above 2^53", Packet{Type: Event, Namespace: "/", ID: MaxAckID + 1, HasID: true, Data: []byte(`["e"]`)}, false},
		{"reserved event", Packet{Type: Event, Namespace: "/", Data: []byte(`["disconnect"]`)}, false},
		{"event not an array", Packet{Type: Event, Namespace: "/", Data: []byte(`{}`)}, false},
		{"placeholder past attachments", Packet{Type: BinaryEvent, Namespace: "/", Data: []byte(`["b",{"_placeholder":true,"num":1}]`), Attachments: [][]byte{{1}}}, false},
		{"disconnect with payload", Packet{Type: Disconnect, Namespace: "/", Data: []byte(`{}`)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate(0)
			if tt.ok != (err == nil) {
				t.Fatalf("Validate = %v, want ok %v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not match ErrMalformed", err)
			}
		})
	}
}

func TestPacketValidateRecordsArgs(t *testing.T) {
	p := Packet{Type: Event, Namespace: "/", Data: []byte(`["sum",1,2]`)}
	if err := p.Validate(0); err != nil {
		t.Fatal(err)
	}
	if !p.scanned() {
		t.Fatal("Validate did not record the elements")
	}
	name, args, err := p.EventArgs()
	if err != nil || name != "sum" || len(args) != 2 || string(args[1]) != "2" {
		t.Fatalf("EventArgs = %q %q %v", name, args, err)
	}
}
