package engineio

import (
	"errors"
	"slices"
	"testing"
)

func TestAppendPacket(t *testing.T) {
	tests := []struct {
		name string
		p    Packet
		want string
	}{
		{"open", Packet{Type: PacketOpen, Data: []byte(`{"sid":"x"}`)}, `0{"sid":"x"}`},
		{"close", Packet{Type: PacketClose}, "1"},
		{"ping probe", Packet{Type: PacketPing, Data: []byte("probe")}, "2probe"},
		{"pong", Packet{Type: PacketPong}, "3"},
		{"message", Packet{Type: PacketMessage, Data: []byte("héllo")}, "4héllo"},
		{"empty message", Packet{Type: PacketMessage}, "4"},
		{"upgrade", Packet{Type: PacketUpgrade}, "5"},
		{"noop", Packet{Type: PacketNoop}, "6"},
		{"binary is raw", Packet{Type: PacketMessage, Data: []byte{0, 1, 0xff}, Binary: true}, "\x00\x01\xff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(AppendPacket([]byte("prefix"), tt.p)); got != "prefix"+tt.want {
				t.Errorf("AppendPacket = %q, want %q", got, "prefix"+tt.want)
			}
		})
	}
}

func TestDecodePacket(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		binary bool
		want   Packet
		err    bool
	}{
		{"message", "4hello", false, Packet{Type: PacketMessage, Data: []byte("hello")}, false},
		{"empty message", "4", false, Packet{Type: PacketMessage, Data: []byte{}}, false},
		{"ping probe", "2probe", false, Packet{Type: PacketPing, Data: []byte("probe")}, false},
		{"noop", "6", false, Packet{Type: PacketNoop, Data: []byte{}}, false},
		{"binary frame", "\x00\x01", true, Packet{Type: PacketMessage, Data: []byte{0, 1}, Binary: true}, false},
		{"empty binary frame", "", true, Packet{Type: PacketMessage, Data: []byte{}, Binary: true}, false},
		{"binary frame starting with a digit", "4abc", true, Packet{Type: PacketMessage, Data: []byte("4abc"), Binary: true}, false},
		{"empty text", "", false, Packet{}, true},
		{"type 7", "7", false, Packet{}, true},
		{"type 9", "9x", false, Packet{}, true},
		{"letter", "abc", false, Packet{}, true},
		{"b prefix is not a websocket type", "bAQID", false, Packet{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodePacket([]byte(tt.in), tt.binary)
			if tt.err {
				if !errors.Is(err, ErrBadPacket) {
					t.Fatalf("err = %v, want ErrBadPacket", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Type != tt.want.Type || got.Binary != tt.want.Binary || string(got.Data) != string(tt.want.Data) {
				t.Errorf("DecodePacket = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestPayloadCodec(t *testing.T) {
	tests := []struct {
		name    string
		packets []Packet
		wire    string
	}{
		{"one text", []Packet{{Type: PacketMessage, Data: []byte("hello")}}, "4hello"},
		{"several", []Packet{
			{Type: PacketMessage, Data: []byte("a")},
			{Type: PacketPing},
			{Type: PacketMessage, Data: []byte("€")},
		}, "4a\x1e2\x1e4€"},
		{"binary", []Packet{{Type: PacketMessage, Data: []byte{1, 2, 3, 4}, Binary: true}}, "bAQIDBA=="},
		{"mixed", []Packet{
			{Type: PacketMessage, Data: []byte("x")},
			{Type: PacketMessage, Data: []byte{0xff}, Binary: true},
			{Type: PacketMessage, Data: []byte{}, Binary: true},
			{Type: PacketNoop},
		}, "4x\x1eb/w==\x1eb\x1e6"},
		{"empty messages", []Packet{{Type: PacketMessage}, {Type: PacketMessage}}, "4\x1e4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wire := AppendPayload(nil, tt.packets)
			if string(wire) != tt.wire {
				t.Fatalf("AppendPayload = %q, want %q", wire, tt.wire)
			}
			var got []Packet
			err := DecodePayload(wire, func(p Packet) error {
				p.Data = slices.Clone(p.Data)
				got = append(got, p)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !packetsEqual(got, tt.packets) {
				t.Errorf("DecodePayload = %+v, want %+v", got, tt.packets)
			}
		})
	}
}

func TestDecodePayloadErrors(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		delivered int // packets handed to fn before the error
	}{
		{"empty", "", 0},
		{"letter", "abc", 0},
		{"type 9", "9", 0},
		{"empty record at end", "4ok\x1e", 1},
		{"empty record in the middle", "4a\x1e\x1e4b", 1},
		{"bad base64", "4a\x1ebnot base64!", 1},
		{"base64 without padding", "bAQI", 0},
		{"record separator only", "\x1e", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := 0
			err := DecodePayload([]byte(tt.in), func(Packet) error { n++; return nil })
			if !errors.Is(err, ErrBadPacket) {
				t.Errorf("err = %v, want ErrBadPacket", err)
			}
			if n != tt.delivered {
				t.Errorf("delivered %d packets before the error, want %d", n, tt.delivered)
			}
		})
	}
	stop := errors.New("stop")
	n := 0
	err := DecodePayload([]byte("4a\x1e4b\x1e4c"), func(Packet) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 2 {
		t.Errorf("callback error: err %v after %d packets, want stop after 2", err, n)
	}
}

func TestPacketTypeString(t *testing.T) {
	for typ, want := range map[PacketType]string{PacketOpen: "open", PacketNoop: "noop", PacketMessage: "message", 9: "PacketType(9)"} {
		if got := typ.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", byte(typ), got, want)
		}
	}
}

func packetsEqual(a, b []Packet) bool {
	return slices.EqualFunc(a, b, func(x, y Packet) bool {
		return x.Type == y.Type && x.Binary == y.Binary && string(x.Data) == string(y.Data)
	})
}
