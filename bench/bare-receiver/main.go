// Command bare-receiver is the ceiling of docs/benchmarks.md: the least a Go
// service can do with a Kombo webhook and still answer it honestly. It reads
// the body, verifies X-Kombo-Signature on the bytes, decodes and validates
// the webhook as assessgate does (kombo.ParseWebhook), and answers 200. It
// stores nothing, logs nothing and has no middleware: what assessgate does
// beyond it (storing durably, deduplicating, metrics, logs, the jobs) is
// what the ratio of the two measures.
//
//	KOMBO_WEBHOOK_SECRET=… bare-receiver [-addr 127.0.0.1:0]
//
// It prints "listening on http://ADDR" once it listens.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"

	"github.com/assessgate/assessgate/kombo"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	secret := os.Getenv("KOMBO_WEBHOOK_SECRET")
	if secret == "" {
		log.Fatal("KOMBO_WEBHOOK_SECRET is not set")
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	secrets := []string{secret}
	ok := []byte(`{"status":"ok","duplicate":false}`)
	log.Fatal(http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "unreadable body", http.StatusBadRequest)
			return
		}
		if !kombo.Verify(secrets, body, r.Header.Get(kombo.SignatureHeader)) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		if _, err := kombo.ParseWebhook(body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(ok)
	})))
}
