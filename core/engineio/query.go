package engineio

import (
	"net/url"
	"strings"
)

// engineQuery holds the query parameters the engine reads on every request.
type engineQuery struct{ transport, eio, sid string }

// scanQuery reads transport, EIO and sid from a raw query as url.ParseQuery
// and url.Values.Get would (the first value of each), and reports false
// where url.ParseQuery fails. A query with nothing to unescape, as every
// Engine.IO client sends, is read in place with no allocation; any other
// goes through url.ParseQuery.
func scanQuery(raw string) (engineQuery, bool) {
	var q engineQuery
	if strings.ContainsAny(raw, "%+;") {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return q, false
		}
		return engineQuery{transport: v.Get("transport"), eio: v.Get("EIO"), sid: v.Get("sid")}, true
	}
	var seen [3]bool
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		key, value, _ := strings.Cut(pair, "=")
		var i int
		switch key {
		case "transport":
			i = 0
		case "EIO":
			i = 1
		case "sid":
			i = 2
		default:
			continue
		}
		if seen[i] {
			continue // url.Values.Get returns the first
		}
		seen[i] = true
		switch i {
		case 0:
			q.transport = value
		case 1:
			q.eio = value
		case 2:
			q.sid = value
		}
	}
	return q, true
}
