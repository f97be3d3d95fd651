package engineio

import (
	"net/http"
	"slices"
	"strings"
)

// originRefused is python-engineio's answer to a refused origin.
const originRefused = "Not an accepted origin."

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
	return sameOrigin(origin, r)
}

// sameOrigin reports whether origin names the host the request was sent to,
// over http or https (behind a proxy the scheme is not always knowable).
func sameOrigin(origin string, r Request) bool {
	host := r.Header("X-Forwarded-Host")
	if host == "" {
		host = r.Header("Host")
	}
	if host == "" {
		return false
	}
	rest, ok := strings.CutPrefix(origin, "https://")
	if !ok {
		if rest, ok = strings.CutPrefix(origin, "http://"); !ok {
			return false
		}
	}
	return strings.EqualFold(rest, host)
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
