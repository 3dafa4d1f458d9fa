package server

import "net/http"

// admin returns the handler of the admin pages, or, when they are off (no
// ASSESSGATE_ADMIN_PASSWORD), one that says so with 404.
func (s *Server) admin() http.Handler {
	if s.cfg.Admin != nil {
		return s.cfg.Admin
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte("The admin pages are off: set ASSESSGATE_ADMIN_PASSWORD to turn them on.\n"))
	})
}
