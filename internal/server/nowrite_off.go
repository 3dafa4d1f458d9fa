//go:build !bench

package server

import "net/http"

// mountNoWrite refuses: the benchmarks' no-write route is compiled only
// into a binary built with -tags bench (nowrite.go), and the product's
// configuration cannot ask for it.
func (s *Server) mountNoWrite(*http.ServeMux) {
	panic("server: Config.NoWriteRoute needs a binary built with -tags bench")
}
