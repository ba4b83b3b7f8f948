package workostest

import (
	"encoding/json"
	"html/template"
	"net/http"
	"slices"
	"time"
)

// linkLifetime is how long a generated Portal Link works (reference §10.2).
const linkLifetime = 5 * time.Minute

var intents = []string{"sso", "dsync", "audit_logs", "log_streams", "domain_verification", "certificate_renewal", "bring_your_own_key"}

type portalLink struct {
	Organization, Intent, ReturnURL, SuccessURL string
	Issued                                      time.Time
}

func (s *Server) generateLink(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Organization string  `json:"organization"`
		Intent       string  `json:"intent"`
		ReturnURL    *string `json:"return_url"`
		SuccessURL   *string `json:"success_url"`
	}
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		writeMessage(w, http.StatusBadRequest, "Invalid JSON body")
		return
	}
	if b.Organization == "" {
		writeValidation(w, "organization", "required")
		return
	}
	if b.Intent != "" && !slices.Contains(intents, b.Intent) {
		writeValidation(w, "intent", "invalid")
		return
	}
	if _, ok := s.organizationName(b.Organization); !ok {
		writeMessage(w, http.StatusNotFound, "Could not find an organization with the id, "+b.Organization+".")
		return
	}
	token := randomHex(16)
	s.mu.Lock()
	s.links[token] = portalLink{Organization: b.Organization, Intent: b.Intent,
		ReturnURL: deref(b.ReturnURL), SuccessURL: deref(b.SuccessURL), Issued: s.now()}
	s.created["portal_link"]++
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]string{"link": s.URL + "/portal/setup?token=" + token})
}

var setupPage = template.Must(template.New("setup").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>WorkOS Admin Portal (fake)</title></head>
<body>
<h1>WorkOS Admin Portal (fake)</h1>
<p>Intent: <strong id="intent">{{.Intent}}</strong></p>
<p>Organization: <strong id="organization">{{.Name}}</strong> (<code id="organization-id">{{.Organization}}</code>)</p>
{{if .SuccessURL}}<p><a id="success" href="{{.SuccessURL}}">Finish setup</a></p>{{end}}
{{if .ReturnURL}}<p><a id="return" href="{{.ReturnURL}}">Back</a></p>{{end}}
</body></html>
`))

// portalSetup is the page a browser lands on from a generated link.
func (s *Server) portalSetup(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	l, ok := s.links[r.URL.Query().Get("token")]
	expired := ok && s.now().Sub(l.Issued) > linkLifetime
	s.mu.Unlock()
	if !ok || expired {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte("<!doctype html><title>WorkOS Admin Portal (fake)</title><p>This link is invalid or has expired.</p>\n"))
		return
	}
	name, _ := s.organizationName(l.Organization)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = setupPage.Execute(w, struct {
		portalLink
		Name string
	}{l, name})
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
