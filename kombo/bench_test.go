package kombo_test

import (
	"os"
	"testing"

	"github.com/assessgate/assessgate/kombo"
)

// The webhook path's work before anything is stored, on Kombo's example
// order (1.6 KB).

func BenchmarkVerify(b *testing.B) {
	body, err := os.ReadFile("testdata/webhook-assessment-order-received.json")
	if err != nil {
		b.Fatal(err)
	}
	sig := kombo.Sign("whsec_benchmark", body)
	secrets := []string{"whsec_benchmark"}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if !kombo.Verify(secrets, body, sig) {
			b.Fatal("Verify = false")
		}
	}
}

func BenchmarkParseWebhook(b *testing.B) {
	body, err := os.ReadFile("testdata/webhook-assessment-order-received.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kombo.ParseWebhook(body); err != nil {
			b.Fatal(err)
		}
	}
}
