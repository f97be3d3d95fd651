package engineio

import (
	"net/url"
	"slices"
	"strings"
)

// engineQuery holds the query parameters the engine reads on every request.
type engineQuery struct{ transport, eio, sid string }

// queryKeys are the names of engineQuery's fields in the query, in order.
var queryKeys = [...]string{"transport", "EIO", "sid"}

// scanQuery reads transport, EIO and sid from a raw query as url.ParseQuery
// and url.Values.Get would (the first value of each), and reports false
// where url.ParseQuery fails. A query with nothing to unescape, as every
// Engine.IO client sends, is read in place with no allocation; any other
// goes through url.ParseQuery.
func scanQuery(raw string) (engineQuery, bool) {
	if strings.ContainsAny(raw, "%+;") {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return engineQuery{}, false
		}
		return engineQuery{transport: v.Get("transport"), eio: v.Get("EIO"), sid: v.Get("sid")}, true
	}
	var vals [3]string // in the order of queryKeys
	var seen [3]bool
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		key, value, _ := strings.Cut(pair, "=")
		i := slices.Index(queryKeys[:], key)
		if i < 0 || seen[i] {
			continue // not ours, or a repeat (url.Values.Get returns the first)
		}
		vals[i], seen[i] = value, true
	}
	return engineQuery{transport: vals[0], eio: vals[1], sid: vals[2]}, true
}
