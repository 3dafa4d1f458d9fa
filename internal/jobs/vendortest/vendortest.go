// Package vendortest is the vendor's platform for tests: a server that
// receives assessgate's vendor webhooks and checks every signature as the
// Standard Webhooks specification describes it. The check is written here
// from the specification, independently of the library assessgate signs
// with, so that a mistake in either shows. Every webhook's headers and body
// are checked against api/openapi.yaml too (apitest.CheckVendorWebhook): one
// that does not match fails the test; and the public client's
// WebhookVerifier must agree with the check here.
package vendortest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assessgate/assessgate/client"
	"github.com/assessgate/assessgate/internal/apitest"
)

// Tolerance is how far a webhook-timestamp may be from now.
const Tolerance = 5 * time.Minute

// Verify checks a webhook: the key is the base64 after "whsec_" (or the
// secret's bytes when it has no such prefix), the signed content is
// "<webhook-id>.<webhook-timestamp>.<body>", webhook-signature holds
// space-separated "v1,<base64 HMAC-SHA256>" entries of which one must
// match, and the timestamp must be within Tolerance of now.
func Verify(secret string, h http.Header, body []byte, now time.Time) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return errors.New("missing webhook-id, webhook-timestamp or webhook-signature")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("webhook-timestamp %q is not Unix seconds", ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > Tolerance || d < -Tolerance {
		return fmt.Errorf("webhook-timestamp %s is %v from now", ts, d)
	}
	key := []byte(secret)
	if rest, ok := strings.CutPrefix(secret, "whsec_"); ok {
		if key, err = base64.StdEncoding.DecodeString(rest); err != nil {
			return fmt.Errorf("secret: %v", err)
		}
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, entry := range strings.Fields(sigs) {
		if version, sig, ok := strings.Cut(entry, ","); ok && version == "v1" && hmac.Equal([]byte(sig), []byte(want)) {
			return nil
		}
	}
	return fmt.Errorf("no v1 signature in %q matches", sigs)
}

// Request is a webhook the Receiver got.
type Request struct {
	Header http.Header
	Body   []byte
	// Status is what the receiver answered.
	Status int
	// VerifyErr is the signature check's verdict; the receiver answers 401
	// when it is not nil.
	VerifyErr error
	// Event is the decoded body.
	Event Event
}

// Event is the body of a vendor webhook.
type Event struct {
	Type      string         `json:"type"`
	Timestamp string         `json:"timestamp"`
	Data      map[string]any `json:"data"`
}

// ID returns the webhook-id.
func (r *Request) ID() string { return r.Header.Get("webhook-id") }

// OrderID returns the id of the order in the body.
func (r *Request) OrderID() string { s, _ := r.Event.Data["id"].(string); return s }

// Receiver is an HTTP server that takes vendor webhooks. It answers 5xx to
// the first Fail requests (a platform that is down for a while), then 204.
type Receiver struct {
	*httptest.Server
	t      testing.TB
	secret string
	now    func() time.Time

	mu   sync.Mutex
	fail int
	got  []Request
}

// NewReceiver starts a receiver that verifies with secret against the
// clock now, and fails the first fail requests. It is closed when the test
// ends.
func NewReceiver(t testing.TB, secret string, fail int, now func() time.Time) *Receiver {
	r := &Receiver{t: t, secret: secret, now: now, fail: fail}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	got := Request{Header: req.Header.Clone(), Body: body, VerifyErr: Verify(r.secret, req.Header, body, r.now())}
	json.Unmarshal(body, &got.Event)
	// The public client's verifier must agree with the check above.
	if v, err := client.NewWebhookVerifier(r.secret); err != nil {
		r.t.Errorf("vendortest: client.NewWebhookVerifier: %v", err)
	} else {
		v.Now = r.now
		if _, err := v.Verify(req.Header, body); (err == nil) != (got.VerifyErr == nil) {
			r.t.Errorf("vendortest: client.WebhookVerifier says %v, the specification's check %v", err, got.VerifyErr)
		}
	}
	if err := apitest.CheckVendorWebhook(req.Header, body); err != nil {
		r.t.Errorf("vendortest: a %s webhook does not match api/openapi.yaml: %v\nbody: %s", got.Event.Type, err, body)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case got.VerifyErr != nil:
		got.Status = http.StatusUnauthorized
	case r.fail > 0:
		r.fail--
		got.Status = []int{http.StatusInternalServerError, http.StatusServiceUnavailable, http.StatusBadGateway}[len(r.got)%3]
	default:
		got.Status = http.StatusNoContent
	}
	r.got = append(r.got, got)
	w.WriteHeader(got.Status)
}

// SetFail makes the next n requests fail.
func (r *Receiver) SetFail(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = n
}

// Requests returns every request so far, in the order they came.
func (r *Receiver) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.got...)
}

// Delivered returns the events answered 2xx, as "type order_id", in the
// order they came.
func (r *Receiver) Delivered() []string {
	var out []string
	for _, q := range r.Requests() {
		if q.Status < 300 {
			out = append(out, q.Event.Type+" "+q.OrderID())
		}
	}
	return out
}
