package client

import (
	"net/http"
	"strconv"
	"time"
)

// SignForTest signs body as assessgate's sender does (internal/jobs/vendor.go:
// the same library, the same headers).
func SignForTest(v *WebhookVerifier, id string, at time.Time, body []byte) http.Header {
	sig, err := v.wh.Sign(id, at, body)
	if err != nil {
		panic(err)
	}
	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	h.Set("webhook-signature", sig)
	return h
}
