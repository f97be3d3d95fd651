package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"time"
)

// httpConn is a minimal HTTP/1.1 client on one keep-alive TCP connection,
// used by one goroutine at a time. net/http's client spent as much CPU per
// request as the servers it measured, so the polling scenario measured the
// load generator; this one writes a request with one write and reads the
// response with a few reads, and only what the scenario needs: status,
// Content-Length or chunked bodies, and Connection: close.
type httpConn struct {
	host    string // host:port
	conn    net.Conn
	br      *bufio.Reader
	req     []byte
	timeout time.Duration
}

func newHTTPConn(base string) (*httpConn, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	return &httpConn{host: u.Host, timeout: 30 * time.Second}, nil
}

var errStatus = errors.New("unexpected HTTP status")

// do sends one request for target (path and query) and returns the body of
// a 200 response. A request on a reused connection that fails before any
// response byte arrives is sent again once on a new connection, as
// net/http's client does for idempotent requests; GET only.
func (h *httpConn) do(method, target string, body []byte) ([]byte, error) {
	reused := h.conn != nil
	out, started, err := h.roundTrip(method, target, body)
	if err != nil && reused && !started && method == "GET" {
		h.drop()
		out, _, err = h.roundTrip(method, target, body)
	}
	if err != nil {
		h.drop()
	}
	return out, err
}

func (h *httpConn) drop() {
	if h.conn != nil {
		_ = h.conn.Close()
		h.conn, h.br = nil, nil
	}
}

// roundTrip writes the request and reads the response; started reports
// whether any of the response arrived.
func (h *httpConn) roundTrip(method, target string, body []byte) (out []byte, started bool, err error) {
	if h.conn == nil {
		c, err := net.DialTimeout("tcp", h.host, h.timeout)
		if err != nil {
			return nil, false, err
		}
		h.conn, h.br = c, bufio.NewReaderSize(c, 16<<10)
	}
	r := h.req[:0]
	r = append(r, method...)
	r = append(r, ' ')
	r = append(r, target...)
	r = append(r, " HTTP/1.1\r\nHost: "...)
	r = append(r, h.host...)
	if body != nil {
		r = append(r, "\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: "...)
		r = strconv.AppendInt(r, int64(len(body)), 10)
	}
	r = append(r, "\r\n\r\n"...)
	r = append(r, body...)
	h.req = r
	_ = h.conn.SetDeadline(time.Now().Add(h.timeout))
	if _, err := h.conn.Write(r); err != nil {
		return nil, false, err
	}
	line, err := h.br.ReadSlice('\n')
	if err != nil {
		return nil, len(line) > 0, err
	}
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return nil, true, fmt.Errorf("bad status line %q", line)
	}
	status := string(line[9:12])
	length, chunked, closeAfter := -1, false, false
	for {
		hl, err := h.br.ReadSlice('\n')
		if err != nil {
			return nil, true, err
		}
		hl = bytes.TrimRight(hl, "\r\n")
		if len(hl) == 0 {
			break
		}
		k, v, ok := bytes.Cut(hl, []byte(":"))
		if !ok {
			continue
		}
		v = bytes.TrimSpace(v)
		switch {
		case bytes.EqualFold(k, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(v)); err != nil {
				return nil, true, fmt.Errorf("bad Content-Length %q", v)
			}
		case bytes.EqualFold(k, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(v, []byte("chunked"))
		case bytes.EqualFold(k, []byte("Connection")):
			closeAfter = bytes.EqualFold(v, []byte("close"))
		}
	}
	switch {
	case chunked:
		out, err = h.readChunked()
	case length >= 0:
		out = make([]byte, length)
		_, err = io.ReadFull(h.br, out)
	default:
		out, err = io.ReadAll(h.br)
		closeAfter = true
	}
	if err != nil {
		return nil, true, err
	}
	if closeAfter {
		h.drop()
	}
	if status != "200" {
		return nil, true, fmt.Errorf("%w: %s %s: %s %q", errStatus, method, target, status, out)
	}
	return out, true, nil
}

func (h *httpConn) readChunked() ([]byte, error) {
	var out []byte
	for {
		line, err := h.br.ReadSlice('\n')
		if err != nil {
			return nil, err
		}
		size, _, _ := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(";"))
		n, err := strconv.ParseInt(string(size), 16, 32)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("bad chunk size %q", line)
		}
		if n == 0 {
			// Trailers, then the blank line.
			for {
				l, err := h.br.ReadSlice('\n')
				if err != nil {
					return nil, err
				}
				if len(bytes.TrimRight(l, "\r\n")) == 0 {
					return out, nil
				}
			}
		}
		start := len(out)
		out = append(out, make([]byte, n)...)
		if _, err := io.ReadFull(h.br, out[start:]); err != nil {
			return nil, err
		}
		if _, err := h.br.Discard(2); err != nil { // CRLF
			return nil, err
		}
	}
}
