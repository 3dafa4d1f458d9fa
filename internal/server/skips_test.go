package server

import (
	"testing"

	"github.com/assessgate/assessgate/internal/store/storetest"
)

// TestMain says, in one line even without -v, which services the tests
// ran without.
func TestMain(m *testing.M) { storetest.Main(m, "internal/server") }
