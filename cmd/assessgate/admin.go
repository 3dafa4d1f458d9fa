package main

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/riverqueue/river/rivertype"

	"github.com/assessgate/assessgate/internal/admin"
	"github.com/assessgate/assessgate/internal/jobs"
	"github.com/assessgate/assessgate/internal/store"
)

// defineAdminFlags defines the admin pages' setting; the function it
// returns gives the password once f is parsed.
func defineAdminFlags(f *envFlags) func() string {
	password := f.String("admin-password", "ASSESSGATE_ADMIN_PASSWORD", "",
		"password of the admin pages at /admin/ (at least 12 characters); unset: the admin pages are off")
	return func() string { return *password }
}

// newAdmin returns the admin pages, or nil (with a warning) when no
// password is set. Session cookies are Secure when the public address is
// https, as behind a proxy that ends TLS.
func newAdmin(password, publicURL string, st *store.Store, jobClient *jobs.Client, clk rivertype.TimeGenerator, logger *slog.Logger) (http.Handler, error) {
	if password == "" {
		logger.Warn("ASSESSGATE_ADMIN_PASSWORD is not set: the admin pages (/admin/) are off")
		return nil, nil
	}
	cfg := admin.Config{
		Store: st, Jobs: jobClient, Logger: logger, Password: password,
		SecureCookies: strings.HasPrefix(publicURL, "https://"),
	}
	if clk != nil {
		cfg.Now = clk.Now
	}
	h, err := admin.New(cfg)
	if err != nil {
		return nil, err
	}
	logger.Info("admin pages are on", "path", "/admin/", "secure_cookies", cfg.SecureCookies)
	return h, nil
}
