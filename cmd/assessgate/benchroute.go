//go:build bench

package main

// defineNoWriteFlag defines --bench-no-write-route (env
// ASSESSGATE_BENCH_NO_WRITE_ROUTE=1), which mounts the benchmarks' no-write
// webhook route. It exists only in a binary built with -tags bench.
func defineNoWriteFlag(f *envFlags) *bool {
	return f.fs.Bool("bench-no-write-route", f.getenv("ASSESSGATE_BENCH_NO_WRITE_ROUTE") == "1",
		"for benchmarks only: also serve POST /bench/no-write/webhooks/kombo, the webhook path without storing (env ASSESSGATE_BENCH_NO_WRITE_ROUTE=1)")
}
