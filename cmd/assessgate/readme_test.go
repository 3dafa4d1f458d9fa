package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/apitest"

	"github.com/assessgate/assessgate/internal/store/storetest"
	"github.com/assessgate/assessgate/internal/wait"
)

// envValue returns the value of name in the env file the README's
// commands wrote.
func envValue(t *testing.T, file, name string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+"="); ok {
			return v
		}
	}
	t.Fatalf("%s does not set %s", file, name)
	return ""
}

// readmeBlocks returns the ```sh blocks of the README's section heading,
// in order.
func readmeBlocks(t *testing.T, readme, heading string) []string {
	t.Helper()
	i := strings.Index(readme, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("README.md has no section %q", heading)
	}
	section := readme[i+len(heading)+2:]
	if j := strings.Index(section, "\n## "); j >= 0 {
		section = section[:j]
	}
	var blocks []string
	for _, m := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(section, -1) {
		blocks = append(blocks, m[1])
	}
	return blocks
}

// TestReadme_Tour runs the README's usable serve and its tour of the vendor
// API as written, with bash and curl, against the real binary: the
// variables of "Run it", its serve command, then every command of "A tour
// of the vendor API" in a second shell, which must all succeed. Only the
// address (a free port instead of 8080), the database and assessgate.env
// (temporary files) and "go run ./cmd/assessgate" (the binary, built once)
// differ. Then a second serve of the README on the same database is
// refused, naming the first one's process.
func TestReadme_Tour(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the README's commands need %s: %v", tool, err)
		}
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	run := readmeBlocks(t, readme, "## Run it")
	tour := readmeBlocks(t, readme, "## A tour of the vendor API")
	if len(run) != 2 || strings.TrimSpace(run[1]) != "go run ./cmd/assessgate serve" || len(tour) != 1 {
		t.Fatalf("README: \"Run it\" has %d sh blocks (want the variables, then serve), the tour %d (want 1)", len(run), len(tour))
	}
	for _, want := range []string{"KOMBO_WEBHOOK_SECRET=", "ASSESSGATE_API_TOKEN=", "ASSESSGATE_ADMIN_PASSWORD=", "ASSESSGATE_PACKAGES_FILE=", "ASSESSGATE_ASSESSMENT_URL="} {
		if !strings.Contains(run[0], want) {
			t.Errorf("the README's serve does not set %s", strings.TrimSuffix(want, "="))
		}
	}
	for _, want := range []string{"/api/v1/orders ", "/api/v1/orders/B5KQKhAgTv6ZwzrfAbqbhipd ", "-X PUT", "/result", "/api/v1/parked ", "/api/v1/dead-letters ", "/api/v1/dead-letters/retry"} {
		if !strings.Contains(tour[0], want) {
			t.Errorf("the README's tour lacks %q", want)
		}
	}

	bin := buildAssessgate(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	envFile := filepath.Join(t.TempDir(), "assessgate.env")
	adapt := strings.NewReplacer("go run ./cmd/assessgate", bin, "http://localhost:8080", "http://"+addr,
		"./assessgate.env", envFile, "> assessgate.env", "> "+envFile).Replace

	env := append(os.Environ(), "ASSESSGATE_ADDR="+addr, "ASSESSGATE_DATABASE_URL="+storetest.SQLite(t).URL)
	var serveOut syncBuffer
	serve := exec.Command("bash", "-c", "set -eu\n"+adapt(run[0])+"\nexec "+adapt(run[1]))
	serve.Dir, serve.Env, serve.Stdout, serve.Stderr = filepath.Join("..", ".."), env, &serveOut, &serveOut
	serve.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-serve.Process.Pid, syscall.SIGTERM)
		serve.Wait()
	})
	wait.For(t, 30*time.Second, "the README's serve answers /healthz", func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	// The second terminal, with none of the first one's variables.
	var out, errOut bytes.Buffer
	tourCmd := exec.Command("bash", "-c", "set -euo pipefail\n"+adapt(tour[0]))
	tourCmd.Dir, tourCmd.Env, tourCmd.Stdout, tourCmd.Stderr = filepath.Join("..", ".."), env, &out, &errOut
	if err := tourCmd.Run(); err != nil {
		t.Fatalf("the README's tour failed: %v\n%s\n%s\nserve:\n%s", err, out.String(), errOut.String(), serveOut.String())
	}
	for _, want := range []string{
		"200 OK",                          // simulate: the order was taken
		`"id":"B5KQKhAgTv6ZwzrfAbqbhipd"`, // listed and read
		`"result_id":`,                    // the result was accepted
		`"state":"completed"`,             // and completed the order
		`"retried":0`,                     // the retry of write-backs answered
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the tour's output lacks %s:\n%s", want, out.String())
		}
	}
	// Without KOMBO_API_KEY, the order shows its write-back parked, naming
	// the key (the tour's GET /api/v1/parked may come before the job ran).
	wait.For(t, 30*time.Second, "the order shows its write-back parked for KOMBO_API_KEY", func() bool {
		req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/orders/B5KQKhAgTv6ZwzrfAbqbhipd", nil)
		req.Header.Set("Authorization", "Bearer "+envValue(t, envFile, "ASSESSGATE_API_TOKEN"))
		resp, err := apitest.Client(t).Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), `"status":"parked"`) && strings.Contains(string(b), "KOMBO_API_KEY")
	})

	// A second serve on the README's database refuses to start, at once,
	// naming the first one's process (bash exec'd it: the same pid).
	var second bytes.Buffer
	again := exec.Command("bash", "-c", "set -eu\n"+adapt(run[0])+"\nexec "+adapt(run[1]))
	again.Dir, again.Env, again.Stdout, again.Stderr = filepath.Join("..", ".."), env, &second, &second
	start := time.Now()
	err = again.Run()
	if want := fmt.Sprintf("in use by process %d", serve.Process.Pid); err == nil || !strings.Contains(second.String(), want) {
		t.Errorf("a second serve on the same SQLite file = %v:\n%s\nwant it refused, naming %q", err, second.String(), want)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the second serve took %v to give up; want at once", took)
	}
	if t.Failed() {
		t.Logf("serve:\n%s", serveOut.String())
	}
}
