package engineio

import (
	"net/url"
	"testing"
)

// TestScanQuery checks scanQuery against url.ParseQuery, which it stands in
// for on every request.
func TestScanQuery(t *testing.T) {
	queries := []string{
		"",
		"EIO=4&transport=polling",
		"EIO=4&transport=polling&t=OaB3x-1&sid=abc_DEF-123",
		"EIO=4&transport=websocket&sid=x",
		"sid=first&sid=second&EIO=3&EIO=4",
		"&&EIO=4&&transport=polling&",
		"EIO&transport=&sid",
		"transport=polling&EIO=4&sid=a%2Bb",
		"transport=poll+ing&EIO=4",
		"transport=polling;EIO=4",
		"EIO=%zz&transport=polling",
		"sid=%41%42&EIO=4",
		"=4&EIO=4=4",
	}
	for _, raw := range queries {
		got, ok := scanQuery(raw)
		v, err := url.ParseQuery(raw)
		if ok != (err == nil) {
			t.Errorf("%q: ok %v, url.ParseQuery error %v", raw, ok, err)
			continue
		}
		if err != nil {
			continue
		}
		want := engineQuery{transport: v.Get("transport"), eio: v.Get("EIO"), sid: v.Get("sid")}
		if got != want {
			t.Errorf("%q: got %+v, want %+v", raw, got, want)
		}
	}
	raw := "EIO=4&transport=polling&t=OaB3x-1&sid=abc_DEF-123"
	if n := testing.AllocsPerRun(100, func() { _, _ = scanQuery(raw) }); n != 0 {
		t.Errorf("scanQuery of a plain query: %v allocations", n)
	}
}

func FuzzScanQuery(f *testing.F) {
	f.Add("EIO=4&transport=polling&sid=abc")
	f.Add("sid=%41&EIO=4;x")
	f.Fuzz(func(t *testing.T, raw string) {
		got, ok := scanQuery(raw)
		v, err := url.ParseQuery(raw)
		if ok != (err == nil) {
			t.Fatalf("%q: ok %v, url.ParseQuery error %v", raw, ok, err)
		}
		if err == nil {
			want := engineQuery{transport: v.Get("transport"), eio: v.Get("EIO"), sid: v.Get("sid")}
			if got != want {
				t.Fatalf("%q: got %+v, want %+v", raw, got, want)
			}
		}
	})
}
