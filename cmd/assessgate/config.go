package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/assessgate/assessgate/internal/assessgate"
	"github.com/assessgate/assessgate/internal/orders"
)

// envFlags defines flags whose defaults come from environment variables, so
// that every setting can be given either way; a flag wins.
type envFlags struct {
	fs     *flag.FlagSet
	name   string
	getenv func(string) string
	stderr io.Writer
	envOf  map[string]string // flag name → its environment variable
	badEnv []error
}

func newEnvFlags(name string, getenv func(string) string, stderr io.Writer) *envFlags {
	fs := flag.NewFlagSet("assessgate "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return &envFlags{fs: fs, name: name, getenv: getenv, stderr: stderr, envOf: map[string]string{}}
}

func (f *envFlags) env(name, def string) string {
	if v := strings.TrimSpace(f.getenv(name)); v != "" {
		return v
	}
	return def
}

// Parse parses args and reports the first malformed environment variable.
func (f *envFlags) Parse(args []string) error {
	if err := f.parseFlags(args); err != nil {
		return err
	}
	if len(f.badEnv) > 0 {
		return f.badEnv[0]
	}
	if f.fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(f.fs.Args(), " "))
	}
	return nil
}

// parseFlags parses args. The flags' usage is printed for -h only: a
// mistaken flag is the one-line error, pointing at -h, rather than a page
// of flags that buries it.
func (f *envFlags) parseFlags(args []string) error {
	usage := f.fs.Usage
	if usage == nil {
		usage = func() {
			fmt.Fprintf(f.stderr, "Usage of %s:\n", f.fs.Name())
			f.fs.PrintDefaults()
		}
	}
	f.fs.Usage = func() {}
	f.fs.SetOutput(io.Discard)
	err := f.fs.Parse(args)
	f.fs.Usage = usage
	f.fs.SetOutput(f.stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		usage()
		return err
	case err != nil:
		return fmt.Errorf("%v (\"assessgate %s -h\" lists the flags)", err, f.name)
	}
	return nil
}

// named returns err naming the flag instead of the environment variable
// when the message begins with a variable whose flag was given: the
// setting is called what the person typed.
func (f *envFlags) named(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	named := err
	f.fs.Visit(func(fl *flag.Flag) {
		env := f.envOf[fl.Name]
		rest, ok := strings.CutPrefix(msg, env)
		if env == "" || !ok || named != err || (rest != "" && (rest[0] == '_' || rest[0] >= 'A' && rest[0] <= 'Z')) {
			return
		}
		named = errors.New("--" + fl.Name + rest)
	})
	return named
}

// String defines a string flag that falls back to the environment variable env.
func (f *envFlags) String(name, env, def, help string) *string {
	f.envOf[name] = env
	if env != "" {
		help += " (env " + env + ")"
	}
	return f.fs.String(name, f.env(env, def), help)
}

// Int defines an integer flag that falls back to the environment variable env.
func (f *envFlags) Int(name, env string, def int, help string) *int {
	f.envOf[name] = env
	n := def
	if raw := f.env(env, ""); raw != "" {
		v, err := strconv.Atoi(raw)
		if err != nil {
			f.badEnv = append(f.badEnv, fmt.Errorf("%s=%q: not a whole number", env, raw))
		}
		n = v
	}
	return f.fs.Int(name, n, help+" (env "+env+")")
}

// Bool defines a boolean flag (true or false, 1 or 0) that falls back to
// the environment variable env.
func (f *envFlags) Bool(name, env string, def bool, help string) *bool {
	f.envOf[name] = env
	v := def
	if raw := f.env(env, ""); raw != "" {
		if b, err := strconv.ParseBool(raw); err == nil {
			v = b
		} else {
			f.badEnv = append(f.badEnv, fmt.Errorf("%s=%q: want true or false", env, raw))
		}
	}
	return f.fs.Bool(name, v, help+" (env "+env+")")
}

// Duration defines a duration flag, in Go's syntax or in days ("14d"), that
// falls back to the environment variable env.
func (f *envFlags) Duration(name, env string, def time.Duration, help string) *time.Duration {
	f.envOf[name] = env
	d := new(time.Duration)
	*d = def
	raw := f.env(env, "")
	if raw != "" {
		if v, err := parseDuration(raw); err == nil {
			*d = v
		} else {
			// Reported by validate: flag.Value cannot fail at definition.
			f.badEnv = append(f.badEnv, fmt.Errorf("%s=%q: %v", env, raw, err))
		}
	}
	f.fs.Func(name, help+" (env "+env+", default "+assessgate.FormatDuration(def)+")", func(s string) error {
		v, err := parseDuration(s)
		if err != nil {
			return err
		}
		*d = v
		return nil
	})
	return d
}

// parseDuration parses Go's duration syntax ("90s", "48h") and days ("14d",
// "1.5d"). Negative durations are refused.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(days, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q: want e.g. 90s, 48h or 14d", s)
		}
		d = time.Duration(n * float64(24*time.Hour))
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("invalid duration %q: want e.g. 90s, 48h or 14d", s)
		}
	}
	if d < 0 {
		return 0, fmt.Errorf("invalid duration %q: must not be negative", s)
	}
	return d, nil
}

// splitList splits a comma-separated list, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// newLogger returns the program's one logger.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("ASSESSGATE_LOG_LEVEL %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch strings.ToLower(format) {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("ASSESSGATE_LOG_FORMAT %q: want text or json", format)
}

// loadPackages reads a package catalogue in the shape of Kombo's
// PUT /assessment/packages body, where a package may name the tenants that
// may order it ("tenants": [...]).
func loadPackages(path string) ([]orders.Package, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ASSESSGATE_PACKAGES_FILE: %w", err)
	}
	var list struct {
		Packages []orders.Package `json:"packages"`
	}
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("ASSESSGATE_PACKAGES_FILE %s: not a package list ({\"packages\": [...]}): %v", path, err)
	}
	if list.Packages == nil {
		return nil, fmt.Errorf("ASSESSGATE_PACKAGES_FILE %s: packages: is required", path)
	}
	if err := orders.ValidatePackages(list.Packages); err != nil {
		return nil, fmt.Errorf("ASSESSGATE_PACKAGES_FILE %s: %v", path, err)
	}
	if len(list.Packages) == 0 {
		return nil, fmt.Errorf("ASSESSGATE_PACKAGES_FILE %s: has no packages; list at least one, or leave ASSESSGATE_PACKAGES_FILE unset to accept orders for every package", path)
	}
	return list.Packages, nil
}
