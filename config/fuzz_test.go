package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad writes arbitrary bytes as the YAML file: loading must return a
// config or an error, never panic, and what it returns must be valid.
func FuzzLoad(f *testing.F) {
	if dev, err := os.ReadFile(devFile); err == nil {
		f.Add(dev)
	}
	for _, seed := range []string{
		"",
		"env: production",
		"webhooks: {secrets: [a, '', ' b'], tolerance: 90s, max_body: 2048}",
		"webhooks: 5",
		"seats: {test_mode_limit: -1, cutover_grace: 0}",
		"a: &x [*x]",
		"? [a]\n: b",
		"database: {url: 'postgres://u:p@h/d?password=x'}",
		"\x00\xff",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "fuzz.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := LoadFrom(path, nil)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Errorf("LoadFrom returned a config that fails Validate: %v", err)
		}
		_ = c.String()
		_ = c.LogFormat()
	})
}
