// Package apitest holds assessgate's HTTP contract to the tests: a client
// whose every request and response is checked against api/openapi.yaml,
// failing the test on a mismatch, and a check of vendor webhook bodies.
// Production code has no hook for it: it wraps the tests' http.Client.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/assessgate/assessgate/api"
)

// contract is the document and its router, built once per test binary.
type contract struct {
	doc    *openapi3.T
	router routers.Router
}

var (
	once     sync.Once
	theDoc   *contract
	errBuild error
)

func load() (*contract, error) {
	once.Do(func() {
		// A body of any (or no) Content-Type, where the document takes "*/*"
		// (Kombo's webhooks), is read as JSON, as assessgate reads it.
		openapi3filter.RegisterBodyDecoder("*/*", openapi3filter.JSONBodyDecoder)
		// A copy of its own: the router must match any host (the tests'
		// servers listen on 127.0.0.1:port), so it has no servers.
		doc, err := api.Parse(api.YAML)
		if err != nil {
			errBuild = err
			return
		}
		doc.Servers = nil
		r, err := legacy.NewRouter(doc)
		if err != nil {
			errBuild = fmt.Errorf("apitest: router: %w", err)
			return
		}
		theDoc = &contract{doc: doc, router: r}
	})
	return theDoc, errBuild
}

// Client returns an http.Client that checks every exchange against the
// document (see Transport).
func Client(t testing.TB) *http.Client {
	return &http.Client{Transport: &Transport{T: t}}
}

// Transport is an http.RoundTripper that checks each request to and each
// response from assessgate against api/openapi.yaml, and fails T (with
// Errorf: the test goes on, and fails at its end) on a mismatch:
//
//   - a response of a documented operation must have a documented status,
//     headers and a body that matches its schema; a 500 or 503 that an
//     operation does not list must be the document's Error;
//   - a request the document says is wrong (a missing or malformed field,
//     an unknown one where the document forbids them) must be refused with
//     a 4xx: a 2xx means the document is stricter than assessgate;
//   - a request under /api/ or /webhooks/ that no operation of the
//     document takes must be answered with the document's Error (404 or
//     405): an endpoint that answers anything else is missing from the
//     document.
//
// The admin pages (/admin/) and the benchmarks' route pass unchecked.
type Transport struct {
	T    testing.TB
	Base http.RoundTripper // http.DefaultTransport when nil
}

// RoundTrip sends req and checks the exchange.
func (tr *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	c, err := load()
	if err != nil {
		tr.T.Errorf("apitest: %v", err)
		return nil, err
	}
	base := tr.Base
	if base == nil {
		base = http.DefaultTransport
	}
	var reqBody []byte
	if req.Body != nil && req.Body != http.NoBody {
		reqBody, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	resp, err := base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	if err != nil {
		return resp, err
	}
	if msg := c.check(req, reqBody, resp, respBody); msg != "" {
		mismatch(tr.T, req, resp.StatusCode, msg, respBody)
	}
	return resp, nil
}

// mismatch fails t with what is wrong with an exchange.
func mismatch(t testing.TB, req *http.Request, status int, msg string, body []byte) {
	t.Errorf("apitest: %s %s → %d does not match api/openapi.yaml: %s\nresponse: %.2000s", req.Method, req.URL.Path, status, msg, body)
}

// check returns what is wrong with the exchange, or "".
func (c *contract) check(req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) string {
	path := req.URL.Path
	documented := strings.HasPrefix(path, "/api/") || strings.HasPrefix(path, "/webhooks/") || strings.HasPrefix(path, "/a/") ||
		path == "/healthz" || path == "/readyz" || path == "/metrics"
	if !documented {
		return ""
	}
	// HEAD is GET without a body.
	routed := req.Clone(context.Background())
	routed.Body = io.NopCloser(bytes.NewReader(reqBody))
	if req.Method == http.MethodHead {
		routed.Method = http.MethodGet
	}
	route, params, err := c.router.FindRoute(routed)
	if err != nil {
		// Not an operation of the document: assessgate must say so.
		if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
			return fmt.Sprintf("no operation %s %s in the document (%v), but assessgate answered %d: document it", req.Method, path, err, resp.StatusCode)
		}
		return c.checkError(respBody)
	}
	in := &openapi3filter.RequestValidationInput{
		Request:    routed,
		PathParams: params,
		Route:      route,
		Options: &openapi3filter.Options{
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
			MultiError:         true,
		},
	}
	if reqErr := openapi3filter.ValidateRequest(context.Background(), in); reqErr != nil && resp.StatusCode < 400 {
		return fmt.Sprintf("the document refuses the request (%v), but assessgate answered %d", reqErr, resp.StatusCode)
	}
	if route.Operation.Responses.Status(resp.StatusCode) == nil && route.Operation.Responses.Default() == nil &&
		(resp.StatusCode == http.StatusInternalServerError || resp.StatusCode == http.StatusServiceUnavailable) {
		// Any operation may fail inside or find the database away.
		return c.checkError(respBody)
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(respBody)),
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
			// Pages for people (HTML) and the document itself are not
			// schema'd beyond their media type.
			ExcludeResponseBody: req.Method == http.MethodHead || !isJSON(resp.Header.Get("Content-Type")),
		},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		return err.Error()
	}
	return ""
}

// checkError checks an answer against the document's Error schema.
func (c *contract) checkError(body []byte) string {
	return c.checkSchema("Error", body)
}

// checkSchema checks body against the document's component schema name.
func (c *contract) checkSchema(name string, body []byte) string {
	ref := c.doc.Components.Schemas[name]
	if ref == nil {
		return "the document has no schema " + name
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Sprintf("not JSON (%v)", err)
	}
	if err := ref.Value.VisitJSON(v, openapi3.EnableJSONSchema2020(), openapi3.MultiErrors()); err != nil {
		return fmt.Sprintf("not a %s: %v", name, err)
	}
	return ""
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// CheckVendorWebhook checks a vendor webhook as the vendor's platform gets
// it (its headers and body) against the document's webhook: nil when it
// matches.
func CheckVendorWebhook(h http.Header, body []byte) error {
	c, err := load()
	if err != nil {
		return err
	}
	item := c.doc.Webhooks["order-event"]
	if item == nil || item.Post == nil {
		return errors.New("apitest: the document has no webhook order-event")
	}
	for _, p := range item.Post.Parameters {
		if p.Value.In != openapi3.ParameterInHeader {
			continue
		}
		v := h.Get(p.Value.Name)
		if v == "" {
			if p.Value.Required {
				return fmt.Errorf("header %s is missing", p.Value.Name)
			}
			continue
		}
		if err := p.Value.Schema.Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
			return fmt.Errorf("header %s: %w", p.Value.Name, err)
		}
	}
	schema := item.Post.RequestBody.Value.Content.Get("application/json").Schema.Value
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("body is not JSON: %w", err)
	}
	if err := schema.VisitJSON(v, openapi3.EnableJSONSchema2020(), openapi3.MultiErrors()); err != nil {
		return fmt.Errorf("body: %w", err)
	}
	return nil
}

// Serve serves req with h in-process, as httptest.NewRecorder does, and
// checks the exchange against the document as Transport does.
func Serve(t testing.TB, h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	c, err := load()
	if err != nil {
		t.Fatalf("apitest: %v", err)
	}
	var reqBody []byte
	if req.Body != nil {
		if reqBody, err = io.ReadAll(req.Body); err != nil {
			t.Fatal(err)
		}
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if msg := c.check(req, reqBody, rec.Result(), rec.Body.Bytes()); msg != "" {
		mismatch(t, req, rec.Code, msg, rec.Body.Bytes())
	}
	return rec
}
