package engineio

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"io"
	"strconv"
	"strings"
	"sync"
)

// Long-polling responses are compressed as the reference servers do it
// (Node's httpCompression, python-engineio's http_compression): gzip or
// deflate (zlib-wrapped, as HTTP's "deflate" is), at the default level, for
// a response of Options.HTTPCompression.Threshold bytes or more. The
// compressors and their output buffers come from pools, so a session keeps
// none of them between polls.

var (
	gzipWriters = sync.Pool{New: func() any {
		w, _ := gzip.NewWriterLevel(io.Discard, flate.DefaultCompression) // a valid level: no error
		return w
	}}
	zlibWriters = sync.Pool{New: func() any {
		w, _ := zlib.NewWriterLevel(io.Discard, flate.DefaultCompression)
		return w
	}}
	compressedBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}
)

// maxPooledCompressed is the largest output buffer kept in the pool.
const maxPooledCompressed = 64 << 10

// pickEncoding returns "gzip", "deflate" or "" for an Accept-Encoding
// header: the one of the two the client prefers (by q-value, then gzip),
// or "" when it accepts neither. "*" stands for both.
func pickEncoding(accept string) string {
	var qGzip, qDeflate, qAny float64 = -1, -1, -1
	for part := range strings.SplitSeq(accept, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				continue
			}
			q = f
		}
		switch name {
		case "gzip", "x-gzip":
			qGzip = q
		case "deflate":
			qDeflate = q
		case "*":
			qAny = q
		}
	}
	if qGzip < 0 {
		qGzip = qAny
	}
	if qDeflate < 0 {
		qDeflate = qAny
	}
	switch {
	case qGzip > 0 && qGzip >= qDeflate:
		return "gzip"
	case qDeflate > 0:
		return "deflate"
	}
	return ""
}

// compressPayload compresses p with encoding into a pooled buffer, which
// the caller returns with releaseCompressed once written.
func compressPayload(encoding string, p []byte) *bytes.Buffer {
	buf := compressedBufs.Get().(*bytes.Buffer)
	buf.Reset()
	switch encoding {
	case "gzip":
		w := gzipWriters.Get().(*gzip.Writer)
		w.Reset(buf)
		_, _ = w.Write(p) // a bytes.Buffer does not fail
		_ = w.Close()
		w.Reset(io.Discard) // drop the reference to buf
		gzipWriters.Put(w)
	default:
		w := zlibWriters.Get().(*zlib.Writer)
		w.Reset(buf)
		_, _ = w.Write(p)
		_ = w.Close()
		w.Reset(io.Discard)
		zlibWriters.Put(w)
	}
	return buf
}

func releaseCompressed(buf *bytes.Buffer) {
	if buf.Cap() <= maxPooledCompressed {
		compressedBufs.Put(buf)
	}
}
