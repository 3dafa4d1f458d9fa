package storetest

import "testing"

// TestSkipLine: nothing skipped says nothing; otherwise one line names each
// missing service, its variable and how many tests ran without it.
func TestSkipLine(t *testing.T) {
	if got := skipLine("internal/x"); got != "" {
		t.Errorf("skipLine with nothing skipped = %q; want none", got)
	}
	Skipped(EnvPostgres)
	Skipped("ASSESSGATE_TEST_MAILPIT")
	Skipped(EnvPostgres)
	want := `internal/x: tests skipped: 2 without Postgres (ASSESSGATE_TEST_DATABASE_URL is not set), 1 without mailpit (ASSESSGATE_TEST_MAILPIT is not set); README.md, "Tests that need a service", says how to run them`
	if got := skipLine("internal/x"); got != want {
		t.Errorf("skipLine = %q\nwant       %q", got, want)
	}
}
