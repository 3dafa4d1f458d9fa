// Package mailtest runs a real SMTP server for tests: mailpit
// (github.com/axllent/mailpit) on loopback, whose HTTP API reads back what
// it received.
//
// Tests find mailpit through the environment variable ASSESSGATE_TEST_MAILPIT:
// the path of the binary, or "auto" to look in $(go env GOPATH)/bin and on
// PATH. Without it the tests that need mailpit skip, except in CI (CI=true),
// where they fail. Install it with
//
//	go install github.com/axllent/mailpit@v1.33.1
package mailtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/store/storetest"
	"github.com/assessgate/assessgate/internal/wait"
)

// EnvMailpit names the environment variable that locates mailpit.
const EnvMailpit = "ASSESSGATE_TEST_MAILPIT"

// Server is a mailpit process on loopback. Its ports stay the same across
// Stop and Start, so a test can take the SMTP server away and bring it back.
type Server struct {
	t        testing.TB
	bin      string
	args     []string
	SMTPPort int
	HTTPPort int
	dir      string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan error
	out  *syncBuffer
}

// Options change how mailpit runs.
type Options struct {
	// Args are extra mailpit flags, e.g. TLS certificates.
	Args []string
}

// Start starts mailpit on free loopback ports and stops it when the test
// ends. It skips the test when mailpit is not configured, and fails it in
// CI.
func Start(t testing.TB, opts *Options) *Server {
	t.Helper()
	bin := Binary(t)
	s := &Server{t: t, bin: bin, SMTPPort: freePort(t), HTTPPort: freePort(t), dir: t.TempDir()}
	if opts != nil {
		s.args = opts.Args
	}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// Binary returns the path of mailpit, or skips the test (fails it in CI)
// when EnvMailpit does not lead to one.
func Binary(t testing.TB) string {
	t.Helper()
	storetest.RequireInCI(t, EnvMailpit)
	v := os.Getenv(EnvMailpit)
	switch v {
	case "":
		storetest.Skipped(EnvMailpit)
		t.Skipf("mailpit skipped: %s is not set (go install github.com/axllent/mailpit@v1.33.1, then %s=auto)", EnvMailpit, EnvMailpit)
	case "auto":
		var candidates []string
		if gopath, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			for _, p := range filepath.SplitList(strings.TrimSpace(string(gopath))) {
				candidates = append(candidates, filepath.Join(p, "bin", "mailpit"))
			}
		}
		if p, err := exec.LookPath("mailpit"); err == nil {
			candidates = append(candidates, p)
		}
		for _, p := range candidates {
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return p
			}
		}
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s=auto but mailpit is neither in $(go env GOPATH)/bin nor on PATH", EnvMailpit)
		}
		storetest.Skipped(EnvMailpit)
		t.Skipf("mailpit skipped: %s=auto but mailpit is neither in $(go env GOPATH)/bin nor on PATH", EnvMailpit)
	}
	if _, err := os.Stat(v); err != nil {
		t.Fatalf("%s=%s: %v", EnvMailpit, v, err)
	}
	return v
}

// SMTPURL is the URL of the SMTP server, for ASSESSGATE_SMTP_URL.
func (s *Server) SMTPURL() string { return "smtp://127.0.0.1:" + strconv.Itoa(s.SMTPPort) }

// SMTPSURL is the URL for implicit TLS, when mailpit runs with
// --smtp-require-tls.
func (s *Server) SMTPSURL() string { return "smtps://127.0.0.1:" + strconv.Itoa(s.SMTPPort) }

func (s *Server) apiURL(path string) string {
	return "http://127.0.0.1:" + strconv.Itoa(s.HTTPPort) + path
}

// Start starts mailpit if it is stopped and waits until it takes mail.
// Messages received before a Stop are kept.
func (s *Server) Start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return
	}
	args := append([]string{
		"--smtp", "127.0.0.1:" + strconv.Itoa(s.SMTPPort),
		"--listen", "127.0.0.1:" + strconv.Itoa(s.HTTPPort),
		"--database", filepath.Join(s.dir, "mailpit.db"),
		"--disable-version-check", "--smtp-disable-rdns", "--quiet",
	}, s.args...)
	out := &syncBuffer{}
	cmd := exec.Command(s.bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start mailpit: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	ready := false
	defer func() {
		if !ready { // the wait failed the test
			cmd.Process.Kill()
			s.t.Logf("mailpit's output:\n%s", out)
		}
	}()
	wait.For(s.t, 30*time.Second, "mailpit to take mail", func() bool {
		select {
		case err := <-done:
			s.t.Fatalf("mailpit exited at start: %v\n%s", err, out)
		default:
		}
		return s.ready()
	})
	ready = true
	s.cmd, s.done, s.out = cmd, done, out
}

// ready reports whether both the SMTP port and the API answer.
func (s *Server) ready() bool {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(s.SMTPPort), time.Second)
	if err != nil {
		return false
	}
	c.Close()
	resp, err := http.Get(s.apiURL("/api/v1/messages?limit=1"))
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Stop stops mailpit; connections to its ports are refused until Start.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

// Address is a mailbox in a message.
type Address struct {
	Name    string
	Address string
}

// Message is a message mailpit received.
type Message struct {
	ID        string
	MessageID string
	From      Address
	To        []Address
	Subject   string
	Text      string // the plain-text part (full messages only)
	HTML      string // the HTML part (full messages only)
}

// Messages returns the summaries of every message received, newest first.
func (s *Server) Messages(t testing.TB) []Message {
	t.Helper()
	var list struct {
		Messages []Message `json:"messages"`
	}
	s.get(t, "/api/v1/messages?limit=1000", &list)
	return list.Messages
}

// MessagesTo returns the full messages received for address, oldest first.
func (s *Server) MessagesTo(t testing.TB, address string) []Message {
	t.Helper()
	var out []Message
	all := s.Messages(t)
	for i := len(all) - 1; i >= 0; i-- {
		for _, to := range all[i].To {
			if strings.EqualFold(to.Address, address) {
				out = append(out, s.Message(t, all[i].ID))
				break
			}
		}
	}
	return out
}

// Message returns a message with its text and HTML parts.
func (s *Server) Message(t testing.TB, id string) Message {
	t.Helper()
	var m Message
	s.get(t, "/api/v1/message/"+url.PathEscape(id), &m)
	return m
}

// Raw returns a message as it was received, headers and MIME parts.
func (s *Server) Raw(t testing.TB, id string) string {
	t.Helper()
	resp, err := http.Get(s.apiURL("/api/v1/message/" + url.PathEscape(id) + "/raw"))
	if err != nil {
		t.Fatalf("mailpit: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// WaitFor polls until address has received n messages, and returns them,
// oldest first. It fails the test when they have not arrived within
// timeout.
func (s *Server) WaitFor(t testing.TB, address string, n int, timeout time.Duration) []Message {
	t.Helper()
	return wait.Until(t, timeout, fmt.Sprintf("%d messages to %s in mailpit", n, address),
		func() []Message { return s.MessagesTo(t, address) },
		func(msgs []Message) bool { return len(msgs) >= n })
}

func (s *Server) get(t testing.TB, path string, v any) {
	t.Helper()
	resp, err := http.Get(s.apiURL(path))
	if err != nil {
		t.Fatalf("mailpit GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("mailpit GET %s = %d %s (%v)", path, resp.StatusCode, b, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("mailpit GET %s: decode: %v", path, err)
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// syncBuffer collects mailpit's output for failure messages.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
