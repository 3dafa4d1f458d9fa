//go:build !bench

package main

import "errors"

// defineNoWriteFlag refuses ASSESSGATE_BENCH_NO_WRITE_ROUTE: the product
// binary has no no-write route and no --bench-no-write-route flag. Build
// with -tags bench for the benchmarks (benchroute.go).
func defineNoWriteFlag(f *envFlags) *bool {
	if v := f.env("ASSESSGATE_BENCH_NO_WRITE_ROUTE", ""); v != "" && v != "0" {
		f.badEnv = append(f.badEnv, errors.New("ASSESSGATE_BENCH_NO_WRITE_ROUTE: the benchmarks' no-write route is not in this binary; build it with go build -tags bench ./cmd/assessgate"))
	}
	return new(bool)
}
