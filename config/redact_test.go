package config

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestConfig_redaction(t *testing.T) {
	t.Parallel()
	secrets := []string{"whsecONEsecret", "whsecTWOsecret", "skAPIsecret", "jwtSECRETvalue0123456789abcdefghij", "PGpassSECRET"}
	c, err := LoadFrom("", []string{
		"SEATSYNC_WEBHOOKS_SECRETS=whsecONEsecret,whsecTWOsecret",
		"SEATSYNC_WORKOS_API_KEY=skAPIsecret",
		"SEATSYNC_AUTH_JWT_SECRET=jwtSECRETvalue0123456789abcdefghij",
		"SEATSYNC_DATABASE_DRIVER=postgres",
		"SEATSYNC_DATABASE_URL=postgres://seatsync:PGpassSECRET@db:5432/seatsync?sslmode=disable",
	})
	if err != nil {
		t.Fatalf("LoadFrom: %v", err)
	}

	var jsonLog, textLog bytes.Buffer
	slog.New(slog.NewJSONHandler(&jsonLog, nil)).Info("start", "config", c)
	slog.New(slog.NewTextHandler(&textLog, nil)).Info("start", "config", *c)
	outputs := map[string]string{
		"String":       c.String(),
		"%v pointer":   fmt.Sprintf("%v", c),
		"%+v value":    fmt.Sprintf("%+v", *c),
		"%#v pointer":  fmt.Sprintf("%#v", c),
		"%#v value":    fmt.Sprintf("%#v", *c),
		"%+v pointer":  fmt.Sprintf("%+v", c),
		"json handler": jsonLog.String(),
		"text handler": textLog.String(),
	}
	for name, out := range outputs {
		for _, secret := range secrets {
			if strings.Contains(out, secret) {
				t.Errorf("%s prints the secret %q: %s", name, secret, out)
			}
		}
		// The rest stays readable, and every key is present.
		for _, want := range []string{redacted, "5432", "sslmode=disable", "api.workos.com", "max_body"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s lacks %q: %s", name, want, out)
			}
		}
	}
	for key := range defaults {
		if !strings.Contains(c.String(), key+"=") {
			t.Errorf("String() lacks %s: %s", key, c.String())
		}
	}
	if got, want := strings.Count(c.String(), redacted), 5; got != want {
		t.Errorf("String() has %d %q, want %d (two webhook secrets, api key, jwt secret, db password): %s",
			got, redacted, want, c.String())
	}
}

func TestConfig_redactionLeavesUnsetSecretsEmpty(t *testing.T) {
	t.Parallel()
	s := validDev(t).String()
	for _, want := range []string{"webhooks.secrets=[]", "workos.api_key= ", "auth.jwt_secret= ", "database.url= "} {
		if !strings.Contains(s, want) {
			t.Errorf("String() lacks %q: %s", want, s)
		}
	}
}

func TestRedactDSN(t *testing.T) {
	t.Parallel()
	tests := []struct {
		dsn, want string
	}{
		{"", ""},
		{"postgres://seatsync:hunter2@db:5432/seatsync?sslmode=disable",
			"postgres://seatsync:[redacted]@db:5432/seatsync?sslmode=disable"},
		{"postgres://seatsync@db/seatsync", "postgres://seatsync@db/seatsync"},
		{"postgres://db/seatsync?user=a&password=hunter2", "postgres://db/seatsync?password=[redacted]&user=a"},
		{"postgresql://u:p%40ss@db/x?sslpassword=hunter2", "postgresql://u:[redacted]@db/x?sslpassword=[redacted]"},
		{"postgres://u:hun/ter2@db/x", "[redacted]"}, // unescaped "/" in the password
		{"postgres://u:hunter2#@db/x", "[redacted]"}, // unescaped "#"
		{"postgres://u:1234/hunter2@db/x", "[redacted]"},
		{"host=db user=seatsync password=hunter2 dbname=x", "host=db user=seatsync password=[redacted] dbname=x"},
		{"host=db password = 'hun ter2' dbname=x", "host=db password = [redacted] dbname=x"},
		{"host=db PASSWORD='it\\'s' dbname=x", "host=db PASSWORD=[redacted] dbname=x"},
	}
	for _, tt := range tests {
		if got := redactDSN(tt.dsn); got != tt.want {
			t.Errorf("redactDSN(%q) = %q, want %q", tt.dsn, got, tt.want)
		}
		if strings.Contains(redactDSN(tt.dsn), "hunter2") || strings.Contains(redactDSN(tt.dsn), "ter2") {
			t.Errorf("redactDSN(%q) prints the password", tt.dsn)
		}
	}
}
