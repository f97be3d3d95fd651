package engineio

import (
	"net"
	"net/http"
	"slices"
	"strings"
)

// originRefused is python-engineio's answer to a refused origin.
const originRefused = "Not an accepted origin."

// TLSRequest is an optional capability of a [Request]: whether it came over
// TLS, which tells the same-origin check the scheme to compare with the
// Origin's. siokit's adapters implement it. A Request without it has no
// known scheme, and the same-origin check then accepts the request's host
// over http and https alike.
type TLSRequest interface {
	Request
	// TLS reports whether the request came over a TLS connection.
	TLS() bool
}

// checkOrigin applies the CORS policy to a request that carries an Origin
// header; requests without one (same-site tools, non-browser clients) pass.
func (s *Server) checkOrigin(r Request) *RequestError {
	origin := r.Header("Origin")
	if origin == "" {
		return nil
	}
	for i := 0; i < len(origin); i++ {
		if c := origin[i]; c < 0x20 || c == 0x7f {
			return badRequest(CodeBadRequest)
		}
	}
	if s.originAllowed(origin, r) {
		return nil
	}
	return &RequestError{Status: http.StatusBadRequest, Code: CodeBadRequest, Message: originRefused}
}

func (s *Server) originAllowed(origin string, r Request) bool {
	allowed := s.opts.CORS.AllowedOrigins
	if slices.Contains(allowed, "*") || slices.Contains(allowed, origin) {
		return true
	}
	return s.sameOrigin(origin, r)
}

// sameOrigin reports whether origin names the scheme and host the request
// was sent to. Forwarded headers stand for them only when the proxy is
// trusted (Options.TrustProxy).
func (s *Server) sameOrigin(origin string, r Request) bool {
	host, scheme := r.Header("Host"), ""
	if t, ok := r.(TLSRequest); ok {
		scheme = "http"
		if t.TLS() {
			scheme = "https"
		}
	}
	if s.opts.TrustProxy {
		if h := firstValue(r.Header("X-Forwarded-Host")); h != "" {
			host = h
		}
		if p := strings.ToLower(firstValue(r.Header("X-Forwarded-Proto"))); p == "http" || p == "https" {
			scheme = p
		}
	}
	if host == "" {
		return false
	}
	oScheme, rest, ok := strings.Cut(origin, "://")
	if !ok || !strings.EqualFold(rest, host) {
		return false
	}
	oScheme = strings.ToLower(oScheme)
	if scheme == "" { // unknown: either
		return oScheme == "http" || oScheme == "https"
	}
	return oScheme == scheme
}

// firstValue returns the first element of a comma-separated header value.
func firstValue(v string) string {
	v, _, _ = strings.Cut(v, ",")
	return strings.TrimSpace(v)
}

// clientAddr returns the address a request is counted and logged under: the
// host of its RemoteAddr, or with a trusted proxy the last address of
// X-Forwarded-For, the one the proxy saw.
func (s *Server) clientAddr(r Request) string {
	if s.opts.TrustProxy {
		if xff := r.Header("X-Forwarded-For"); xff != "" {
			if i := strings.LastIndexByte(xff, ','); i >= 0 {
				xff = xff[i+1:]
			}
			if a := strings.TrimSpace(xff); a != "" {
				return a
			}
		}
	}
	addr := r.RemoteAddr()
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// setCORS adds the CORS response headers for an allowed cross-origin request.
func (s *Server) setCORS(w ResponseWriter, r Request) {
	origin := r.Header("Origin")
	if origin == "" || s.checkOrigin(r) != nil {
		return
	}
	wildcard := slices.Contains(s.opts.CORS.AllowedOrigins, "*")
	creds := !wildcard
	if c := s.opts.CORS.AllowCredentials; c != nil {
		creds = *c
	}
	if wildcard && !creds {
		w.SetHeader("Access-Control-Allow-Origin", "*")
	} else {
		w.SetHeader("Access-Control-Allow-Origin", origin)
		w.SetHeader("Vary", "Origin")
	}
	if creds {
		w.SetHeader("Access-Control-Allow-Credentials", "true")
	}
}
