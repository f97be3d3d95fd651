package logx

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestDefaultLevels(t *testing.T) {
	var buf bytes.Buffer
	old := slog.Default()
	t.Cleanup(func() { slog.SetDefault(old) })
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))

	l := Default(nil)
	l.Info("quiet")
	l.Debug("quiet")
	l.Warn("loud", "k", 1)
	l.With("sid", "x").Error("louder")
	out := buf.String()
	if strings.Contains(out, "quiet") {
		t.Errorf("below Warn written: %q", out)
	}
	for _, want := range []string{"msg=loud k=1", "sid=x", "msg=louder"} {
		if !strings.Contains(out, want) {
			t.Errorf("output %q lacks %q", out, want)
		}
	}
	given := slog.New(slog.DiscardHandler)
	if Default(given) != given {
		t.Error("Default replaced a given logger")
	}
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestLimiterAllow(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	l := NewLimiter(time.Second, 2)
	l.now = c.now

	steps := []struct {
		key        string
		advance    time.Duration
		ok         bool
		suppressed int
	}{
		{"a", 0, true, 0},
		{"a", 0, true, 0},
		{"a", 0, false, 0},
		{"b", 0, true, 0}, // keys are independent
		{"a", 0, false, 0},
		{"a", time.Second, true, 2}, // new window reports what was held back
		{"a", 0, true, 0},
		{"a", 0, false, 0},
	}
	for i, s := range steps {
		c.t = c.t.Add(s.advance)
		ok, sup := l.Allow(s.key)
		if ok != s.ok || sup != s.suppressed {
			t.Fatalf("step %d (%s): Allow = %v, %d; want %v, %d", i, s.key, ok, sup, s.ok, s.suppressed)
		}
	}
	if got := l.Forget("a"); got != 1 {
		t.Errorf("Forget = %d, want 1", got)
	}
	if ok, _ := l.Allow("a"); !ok {
		t.Error("forgotten key still limited")
	}
}

func TestLimiterBoundedKeys(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	l := NewLimiter(time.Second, 1)
	l.now = c.now
	l.maxKeys = 8
	allowed := 0
	for i := range 1000 {
		if ok, _ := l.Allow(fmt.Sprint("k", i)); ok {
			allowed++
		}
	}
	if len(l.windows) > 8 {
		t.Fatalf("%d windows kept, limit 8", len(l.windows))
	}
	if allowed != 9 { // 8 keys of their own, then one shared overflow window
		t.Errorf("allowed %d records, want 9", allowed)
	}
	c.t = c.t.Add(time.Second)
	if ok, _ := l.Allow("fresh"); !ok {
		t.Error("expired windows not swept for a new key")
	}
}

func TestLimiterLog(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	l := NewLimiter(time.Hour, 3)
	for range 100_000 {
		l.Log(context.Background(), logger, slog.LevelWarn, "sock1:decode", "bad args", "sid", "sock1")
	}
	if n := strings.Count(buf.String(), "\n"); n != 3 {
		t.Errorf("%d lines for 100,000 records, want 3", n)
	}
	buf.Reset()
	l.Log(context.Background(), logger, slog.LevelDebug, "k", "debug")
	if buf.Len() != 0 {
		t.Error("a record below the logger's level was written")
	}
}
