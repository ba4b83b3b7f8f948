package config

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
)

// Load reads the YAML file at path ("" for none), overrides it with the
// process's SEATSYNC_* environment variables, and validates the result.
func Load(path string) (*Config, error) {
	return LoadFrom(path, os.Environ())
}

// LoadFrom is [Load] with the environment given as "KEY=value" strings, as
// returned by [os.Environ]. The process environment is not consulted, which
// lets tests run in parallel.
//
// Each key is read from SEATSYNC_ plus the key upper-cased with dots as
// underscores (database.url from SEATSYNC_DATABASE_URL). Environment values
// override the file, empty ones are ignored, lists are comma-separated and
// durations use Go syntax. An unknown key in the file, a value of the wrong
// type or a failed [Config.Validate] is an error naming the key.
func LoadFrom(path string, environ []string) (*Config, error) {
	// A local viper, never the global one: two loads must not share state.
	v := viper.New()
	v.SetConfigType("yaml")
	for key, value := range defaults {
		v.SetDefault(key, value)
	}
	if path != "" {
		if err := readFile(v, path); err != nil {
			return nil, err
		}
	}
	fromEnv := setEnv(v, environ)

	var c Config
	if err := v.UnmarshalExact(&c, viper.DecodeHook(decodeHook())); err != nil {
		return nil, decodeErrors(err, fromEnv)
	}
	c.Webhooks.Secrets = cleanList(c.Webhooks.Secrets)
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// readFile merges the YAML file at path into v and rejects keys that are not
// in the defaults table, so a typo cannot silently leave a default in place.
func readFile(v *viper.Viper, path string) error {
	// Read the file ourselves (whatever its extension) so that a missing
	// file is an error that names it.
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: read file: %w", err)
	}
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		return fmt.Errorf("config: parse %s: %w", path, err)
	}
	var errs []error
	keys := v.AllKeys()
	slices.Sort(keys)
	for _, key := range keys {
		if _, ok := defaults[key]; ok {
			continue
		}
		problem := "unknown key"
		if isSection(key) {
			problem = "want a mapping of keys, not a single value"
		}
		errs = append(errs, fmt.Errorf("config: %s: %s in %s", key, problem, path))
	}
	return errors.Join(errs...)
}

// isSection reports whether name is the first part of some keys, such as
// "webhooks" for webhooks.secrets.
func isSection(name string) bool {
	for key := range defaults {
		if strings.HasPrefix(key, name+".") {
			return true
		}
	}
	return false
}

// setEnv copies the SEATSYNC_* entries of environ that name a known key into
// v, above the file, and returns the variable used for each key.
//
// viper's AutomaticEnv is not used: it reads os.LookupEnv directly, so it
// cannot be given a list, and mixing it in would let the process environment
// leak into LoadFrom. envName applies the same SEATSYNC_ + key rule.
// SEATSYNC_* variables that match no key are ignored, as AutomaticEnv would.
func setEnv(v *viper.Viper, environ []string) map[string]string {
	byName := make(map[string]string, len(defaults))
	for key := range defaults {
		byName[envName(key)] = key
	}
	fromEnv := make(map[string]string)
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		key, known := byName[name]
		// Empty values count as unset, as in viper's AllowEmptyEnv(false).
		if !ok || !known || value == "" {
			continue
		}
		v.Set(key, value)
		fromEnv[key] = name
	}
	return fromEnv
}

var durationType = reflect.TypeFor[time.Duration]()

// decodeHook converts strings into durations and comma-separated lists. It
// replaces viper's default hook, which would also accept a bare integer as a
// count of nanoseconds: "tolerance: 300" is almost surely meant as seconds,
// so numbers other than 0 are refused.
func decodeHook() mapstructure.DecodeHookFunc {
	return func(from, to reflect.Type, data any) (any, error) {
		switch {
		case to == durationType:
			return toDuration(data)
		case to.Kind() == reflect.Slice && from.Kind() == reflect.String:
			return cleanList(strings.Split(data.(string), ",")), nil
		case isSignedInt(to.Kind()) && (from.Kind() == reflect.Float32 || from.Kind() == reflect.Float64):
			return toWholeNumber(to, reflect.ValueOf(data).Float())
		}
		return data, nil
	}
}

func isSignedInt(k reflect.Kind) bool {
	return k >= reflect.Int && k <= reflect.Int64
}

// toWholeNumber refuses what mapstructure would silently truncate or wrap:
// "test_mode_limit: 1.5" or a number too large for the field.
func toWholeNumber(to reflect.Type, f float64) (any, error) {
	if f != math.Trunc(f) || math.Abs(f) >= 1<<63 || reflect.Zero(to).OverflowInt(int64(f)) {
		return nil, fmt.Errorf("want a whole number that fits %s, got %v", to, f)
	}
	return int64(f), nil
}

func toDuration(data any) (any, error) {
	value := reflect.ValueOf(data)
	switch value.Kind() {
	case reflect.String:
		d, err := time.ParseDuration(strings.TrimSpace(value.String()))
		if err != nil {
			return nil, fmt.Errorf("%w (want Go syntax such as \"90s\" or \"10m\")", err)
		}
		return d, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		if value.IsZero() {
			return time.Duration(0), nil
		}
	}
	if d, ok := data.(time.Duration); ok {
		return d, nil // a default from the table
	}
	return nil, fmt.Errorf("want a duration with a unit, such as \"90s\" or \"10m\"")
}

// cleanList trims every item and drops the empty ones.
func cleanList(items []string) []string {
	out := make([]string, 0, len(items))
	for _, item := range items {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// decodeErrors rewrites mapstructure's errors as one line per key, naming
// the environment variable when the value came from one.
func decodeErrors(err error, fromEnv map[string]string) error {
	var errs []error
	var walk func(error)
	walk = func(err error) {
		if multi, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range multi.Unwrap() {
				walk(e)
			}
			return
		}
		de, ok := err.(*mapstructure.DecodeError)
		if !ok {
			// mapstructure wraps its joined errors in a summary line.
			if inner := errors.Unwrap(err); inner != nil {
				walk(inner)
			} else {
				errs = append(errs, fmt.Errorf("config: %w", err))
			}
			return
		}
		key := de.Name()
		msg := fmt.Sprintf("config: %s: %v", key, de.Unwrap())
		base, _, _ := strings.Cut(key, "[")
		if name, ok := fromEnv[base]; ok {
			msg += " (from " + name + ")"
		}
		errs = append(errs, errors.New(msg))
	}
	walk(err)
	return errors.Join(errs...)
}
