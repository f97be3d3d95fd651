package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The README shows these files byte for byte, each in the fenced block that
// follows a line "<!-- examples/quickstart/<name> -->".
var readmeFiles = []string{"main.go", "client.mjs", "client.py"}

// TestReadmeShowsTheseFiles fails when README.md's quick start and this
// directory's files differ: the README's program is the one the next test
// builds and runs.
func TestReadmeShowsTheseFiles(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range readmeFiles {
		want, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := fencedAfter(readme, "<!-- examples/quickstart/"+name+" -->")
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("README.md's block for %s differs from the file; copy the file into the README", name)
		}
	}
}

// fencedAfter returns the body of the first fenced code block after marker.
func fencedAfter(doc []byte, marker string) ([]byte, error) {
	_, rest, ok := bytes.Cut(doc, []byte(marker+"\n"))
	if !ok {
		return nil, fmt.Errorf("no line %q", marker)
	}
	_, rest, ok = bytes.Cut(rest, []byte("```"))
	if !ok {
		return nil, fmt.Errorf("no code block after %q", marker)
	}
	_, body, ok := bytes.Cut(rest, []byte("\n")) // the info string
	if !ok {
		return nil, fmt.Errorf("unterminated code block after %q", marker)
	}
	body, _, ok = bytes.Cut(body, []byte("\n```\n"))
	if !ok {
		return nil, fmt.Errorf("unterminated code block after %q", marker)
	}
	return append(body, '\n'), nil
}

// TestQuickstart builds the program, runs it, and drives it as the README
// says: the official JavaScript client connects, its event is acknowledged,
// a REST call reaches it as an announcement; python-socketio's client does
// the same call; SIGTERM ends the program with status 0.
func TestQuickstart(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "node_modules", "socket.io-client")); err != nil {
		t.Fatalf("socket.io-client is not installed (make deps): %v", err)
	}
	bin := filepath.Join(t.TempDir(), "quickstart")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	addr := freeAddr(t)
	base := "http://" + addr
	var serverLog bytes.Buffer
	server := exec.Command(bin, "-addr", addr)
	server.Stdout, server.Stderr = &serverLog, &serverLog
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- server.Wait() }()
	defer func() {
		if server.ProcessState == nil {
			_ = server.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("server output:\n%s", serverLog.String())
		}
	}()
	waitReady(t, base+"/api/clients")

	// The JavaScript client, as the README shows it, on this address.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	js := exec.CommandContext(ctx, "node", "--input-type=module", "-e", snippet(t, "client.mjs", base))
	js.Dir = root // node resolves socket.io-client from the repository's node_modules
	stdout, err := js.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var jsErr bytes.Buffer
	js.Stderr = &jsErr
	if err := js.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	expectLine(t, lines, "ack: got hello from JavaScript", &jsErr)

	// The python-socketio client, as the README shows it.
	py := exec.CommandContext(ctx, "/usr/bin/python3", "-c", snippet(t, "client.py", base))
	out, err := py.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ack: got hello from Python") {
		t.Fatalf("python client: %v\n%s", err, out)
	}
	expectLine(t, lines, "says hello from Python", &jsErr) // the broadcast reached the JS client

	// A REST route beside Socket.IO reaches the connected client.
	res, err := http.PostForm(base+"/api/announce", url.Values{"text": {"hello from REST"}})
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("POST /api/announce: %d", res.StatusCode)
	}
	expectLine(t, lines, "announce: hello from REST", &jsErr)
	_, _ = io.Copy(io.Discard, stdout)
	if err := js.Wait(); err != nil {
		t.Fatalf("JS client: %v\n%s", err, jsErr.String())
	}

	if err := server.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("after SIGTERM: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the program did not exit within 15 s of SIGTERM")
	}
}

// snippet returns a client file with the README's address replaced by base.
func snippet(t *testing.T, name, base string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("http://127.0.0.1:8000")) {
		t.Fatalf("%s does not connect to http://127.0.0.1:8000", name)
	}
	return strings.ReplaceAll(string(b), "http://127.0.0.1:8000", base)
}

// expectLine reads lines until one contains want.
func expectLine(t *testing.T, lines *bufio.Scanner, want string, stderr *bytes.Buffer) {
	t.Helper()
	var seen []string
	for lines.Scan() {
		if strings.Contains(lines.Text(), want) {
			return
		}
		seen = append(seen, lines.Text())
	}
	t.Fatalf("no line %q; got %q (%v); stderr:\n%s", want, seen, lines.Err(), stderr.String())
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().String()
}

// waitReady polls url until it answers 200.
func waitReady(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(url)
		if err == nil {
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after 30 s: %v", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
