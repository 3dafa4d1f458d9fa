package vendortest

import (
	"net/http"
	"testing"
	"time"
)

func TestVerify_SpecExample(t *testing.T) {
	// The example of the specification (written by Svix, which uses it too).
	h := http.Header{}
	h.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set("webhook-timestamp", "1614265330")
	h.Set("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	at := time.Unix(1614265330, 0)
	body := []byte(`{"test": 2432232314}`)
	if err := Verify(secret, h, body, at); err != nil {
		t.Errorf("Verify(spec example) = %v", err)
	}
	for name, check := range map[string]func() error{
		"Body":      func() error { return Verify(secret, h, []byte(`{"test": 2432232315}`), at) },
		"Secret":    func() error { return Verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSx", h, body, at) },
		"TooOld":    func() error { return Verify(secret, h, body, at.Add(6*time.Minute)) },
		"NoHeaders": func() error { return Verify(secret, http.Header{}, body, at) },
	} {
		if err := check(); err == nil {
			t.Errorf("Verify with a wrong %s = nil; want an error", name)
		}
	}
	h.Set("webhook-signature", "v2,abc v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	if err := Verify(secret, h, body, at); err != nil {
		t.Errorf("Verify(several signatures) = %v", err)
	}
}
