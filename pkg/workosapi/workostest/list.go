package workostest

import (
	"net/http"
	"slices"
	"sort"
	"strconv"
)

// listMetadata is list_metadata of a WorkOS list; nil cursors encode as null.
type listMetadata struct {
	Before *string `json:"before"`
	After  *string `json:"after"`
}

// listParams reads limit (1–100, default 10) and order (asc, desc or normal;
// default desc) as the Directory Sync list endpoints do (reference §8).
// On a bad value it answers 422 and returns ok false.
func listParams(w http.ResponseWriter, r *http.Request) (limit int, desc, ok bool) {
	q := r.URL.Query()
	limit = 10
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			writeValidation(w, "limit", "invalid")
			return 0, false, false
		}
		limit = n
	}
	switch q.Get("order") {
	case "", "desc", "normal":
		desc = true
	case "asc":
	default:
		writeValidation(w, "order", "invalid")
		return 0, false, false
	}
	return limit, desc, true
}

// paginate picks one page from ids (any order) by the cursors before/after.
// Cursors are keyset positions, so a cursor whose object was deleted still
// works. before is the first id of the page when items precede it, after the
// last id when items follow it.
func paginate(ids []string, desc bool, before, after string, limit int) (page []string, meta listMetadata) {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	if desc {
		slices.Reverse(ids)
	}
	// precedes reports whether a comes before b in listing order.
	precedes := func(a, b string) bool {
		if desc {
			return a > b
		}
		return a < b
	}
	var start, end int
	switch {
	case after != "":
		for start < len(ids) && !precedes(after, ids[start]) {
			start++
		}
		end = min(start+limit, len(ids))
	case before != "":
		for end < len(ids) && precedes(ids[end], before) {
			end++
		}
		start = max(0, end-limit)
	default:
		end = min(limit, len(ids))
	}
	return window(ids, start, end)
}

// paginateAscending is paginate over ids already sorted in ascending order,
// found by binary search instead of a sort and a scan: the same page and
// cursors, without copying ids.
func paginateAscending(ids []string, before, after string, limit int) (page []string, meta listMetadata) {
	var start, end int
	switch {
	case after != "":
		start = sort.Search(len(ids), func(i int) bool { return ids[i] > after })
		end = min(start+limit, len(ids))
	case before != "":
		end = sort.SearchStrings(ids, before)
		start = max(0, end-limit)
	default:
		end = min(limit, len(ids))
	}
	return window(ids, start, end)
}

// window is ids[start:end] with its cursors: before when earlier ids exist,
// after when later ones do.
func window(ids []string, start, end int) (page []string, meta listMetadata) {
	page = ids[start:end]
	if len(page) > 0 && start > 0 {
		meta.Before = &page[0]
	}
	if len(page) > 0 && end < len(ids) {
		meta.After = &page[len(page)-1]
	}
	return page, meta
}
