package kombo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Base URLs of Kombo's API. A Kombo environment lives in one region; use the
// one your account is in.
const (
	BaseURLEU = "https://api.kombo.dev/v1"
	BaseURLUS = "https://api.us.kombo.dev/v1"
)

// DefaultUserAgent is the User-Agent a Client sends unless told otherwise.
const DefaultUserAgent = "assessgate-kombo"

// maxResponseBytes bounds how much of a response body a Client reads.
const maxResponseBytes = 10 << 20

// Client calls Kombo's API on behalf of an assessment vendor. Make one with
// NewClient and change its fields, if at all, before the first call. A Client
// is safe for concurrent use. It does not retry; see IsRetryable and
// RetryAfter for deciding when to.
//
// Methods return an *Error when Kombo answers with an error status, a
// *ValidationError (wrapped) when the request is rejected before it is sent,
// and other errors for network failures and unreadable responses.
type Client struct {
	// BaseURL is the API root, without a trailing slash: BaseURLEU (the
	// default), BaseURLUS, or a fake such as kombotest.Server's URL.
	BaseURL string
	// HTTPClient sends the requests. NewClient sets one with a 60-second
	// timeout.
	HTTPClient *http.Client
	// UserAgent is sent as the User-Agent header.
	UserAgent string
	// OnResponse, if set, is called with every answer Kombo sends, before
	// the method returns: a way to watch the rate and concurrency limits
	// (Response.Limits) of successful calls too. Failed calls also carry them
	// in (*Error).Limits. It must be safe for concurrent use.
	OnResponse func(Response)

	apiKey string
}

// NewClient returns a Client for Kombo's EU region that authenticates with
// apiKey, an API key from the Secrets page of Kombo's dashboard.
func NewClient(apiKey string) *Client {
	return &Client{
		BaseURL:    BaseURLEU,
		HTTPClient: &http.Client{Timeout: 60 * time.Second},
		UserAgent:  DefaultUserAgent,
		apiKey:     apiKey,
	}
}

// Warning is a warning Kombo attaches to a successful write, for example
// that the ATS ignored an attachment. Kombo recommends logging them.
type Warning struct {
	Message string `json:"message"`
}

// WriteResponse is Kombo's answer to a successful write.
type WriteResponse struct {
	Warnings []Warning `json:"warnings"`
}

// SetPackages replaces the complete package list of an integration with
// pkgs; packages sent before and missing now are deleted, and a nil or empty
// pkgs removes all. The list is checked with PackageList.Validate first.
func (c *Client) SetPackages(ctx context.Context, integrationID string, pkgs []Package) (*WriteResponse, error) {
	sent := make([]Package, len(pkgs))
	for i, p := range pkgs {
		p.UpdatedAt = nil // Kombo's, not ours to send
		sent[i] = p
	}
	body := PackageList{Packages: sent}
	if err := body.Validate(); err != nil {
		return nil, fmt.Errorf("kombo: SetPackages: %w", err)
	}
	var resp WriteResponse
	if err := c.do(ctx, http.MethodPut, "/assessment/packages", integrationID, nil, body, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// GetPackages returns the packages Kombo holds for an integration. Kombo
// offers it for debugging; a vendor always sends the full list anyway.
func (c *Client) GetPackages(ctx context.Context, integrationID string) ([]Package, error) {
	var resp struct {
		Data PackageList `json:"data"`
	}
	if err := c.do(ctx, http.MethodGet, "/assessment/packages", integrationID, nil, nil, &resp); err != nil {
		return nil, err
	}
	return resp.Data.Packages, nil
}

// ListOrdersFilter selects orders in ListOrders. Zero fields do not filter.
type ListOrdersFilter struct {
	Statuses     []OrderStatus // any of these statuses
	IDs          []string      // any of these order ids
	CreatedAfter time.Time     // created at or after this instant
	PageSize     int           // orders per request, 1 to 250; Kombo's default is 100
}

func (f *ListOrdersFilter) query() (url.Values, error) {
	q := url.Values{}
	if len(f.Statuses) > 0 {
		s := make([]string, len(f.Statuses))
		for i, st := range f.Statuses {
			s[i] = string(st)
		}
		q.Set("statuses", strings.Join(s, ","))
	}
	if len(f.IDs) > 0 {
		q.Set("ids", strings.Join(f.IDs, ","))
	}
	if !f.CreatedAfter.IsZero() {
		q.Set("created_after", FormatTime(f.CreatedAfter))
	}
	switch {
	case f.PageSize < 0 || f.PageSize > 250:
		return nil, &ValidationError{"page_size", fmt.Sprintf("must be between 1 and 250, not %d", f.PageSize)}
	case f.PageSize > 0:
		q.Set("page_size", strconv.Itoa(f.PageSize))
	}
	return q, nil
}

// ListOrders returns all orders of an integration that match filter, in
// Kombo's order, following the pagination cursor through every page with the
// same filter. Orders come without IntegrationID.
func (c *Client) ListOrders(ctx context.Context, integrationID string, filter ListOrdersFilter) ([]Order, error) {
	var all []Order
	for o, err := range c.Orders(ctx, integrationID, filter) {
		if err != nil {
			return nil, err
		}
		all = append(all, o)
	}
	return all, nil
}

// ListOrdersPage returns one page of the orders of an integration that match
// filter, starting at cursor ("" for the first page), and the cursor of the
// next page, which is "" after the last.
func (c *Client) ListOrdersPage(ctx context.Context, integrationID string, filter ListOrdersFilter, cursor string) (orders []Order, next string, err error) {
	q, err := filter.query()
	if err != nil {
		return nil, "", fmt.Errorf("kombo: ListOrders: %w", err)
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	var resp struct {
		Data struct {
			Next    *string `json:"next"`
			Results []Order `json:"results"`
		} `json:"data"`
	}
	if err := c.do(ctx, http.MethodGet, "/assessment/orders", integrationID, q, nil, &resp); err != nil {
		return nil, "", err
	}
	if resp.Data.Next != nil {
		next = *resp.Data.Next
	}
	return resp.Data.Results, next, nil
}

// Orders iterates over the orders of an integration that match filter, page
// by page (as Kombo's SDKs page), fetching the next page only when the loop
// wants more. A failed request yields its error once and ends the sequence;
// so does a cursor Kombo repeats. Orders come without IntegrationID.
//
//	for o, err := range c.Orders(ctx, id, kombo.ListOrdersFilter{}) {
//		if err != nil { return err }
//		…
//	}
func (c *Client) Orders(ctx context.Context, integrationID string, filter ListOrdersFilter) iter.Seq2[Order, error] {
	return func(yield func(Order, error) bool) {
		cursor := ""
		for {
			page, next, err := c.ListOrdersPage(ctx, integrationID, filter, cursor)
			if err != nil {
				yield(Order{}, err)
				return
			}
			for _, o := range page {
				if !yield(o, nil) {
					return
				}
			}
			if next == "" {
				return
			}
			if next == cursor {
				yield(Order{}, fmt.Errorf("kombo: ListOrders: Kombo returned cursor %q twice", next))
				return
			}
			cursor = next
		}
	}
}

// UpdateOrderResult writes the result of an order, or its cancellation or an
// interim update, back to the ATS. r is checked with ResultRequest.Validate
// first. Kombo refuses a status change once the order is no longer OPEN.
func (c *Client) UpdateOrderResult(ctx context.Context, integrationID, orderID string, r *ResultRequest) (*WriteResponse, error) {
	if orderID == "" {
		return nil, errors.New("kombo: UpdateOrderResult: empty order id")
	}
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("kombo: UpdateOrderResult: %w", err)
	}
	var resp WriteResponse
	path := "/assessment/orders/" + url.PathEscape(orderID) + "/result"
	if err := c.do(ctx, http.MethodPut, path, integrationID, nil, r, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// CheckAPIKey returns the environment the Client's API key belongs to, or an
// *Error with code PLATFORM.AUTHENTICATION_INVALID if Kombo does not accept
// it.
func (c *Client) CheckAPIKey(ctx context.Context) (*APIKeyInfo, error) {
	var resp struct {
		Data APIKeyInfo `json:"data"`
	}
	if err := c.do(ctx, http.MethodGet, "/check-api-key", "", nil, nil, &resp); err != nil {
		return nil, err
	}
	return &resp.Data, nil
}

// GetIntegration returns the details of an integration.
func (c *Client) GetIntegration(ctx context.Context, integrationID string) (*Integration, error) {
	if integrationID == "" {
		return nil, errors.New("kombo: GetIntegration: empty integration id")
	}
	var resp struct {
		Data Integration `json:"data"`
	}
	if err := c.do(ctx, http.MethodGet, "/integrations/"+url.PathEscape(integrationID), "", nil, nil, &resp); err != nil {
		return nil, err
	}
	return &resp.Data, nil
}

// do sends one request and decodes the whole success envelope into out.
// integrationID, if not empty, goes in the X-Integration-Id header, which
// every /assessment/ path requires.
func (c *Client) do(ctx context.Context, method, path, integrationID string, query url.Values, in, out any) error {
	if integrationID == "" && strings.HasPrefix(path, "/assessment/") {
		return fmt.Errorf("kombo: %s %s: empty integration id", method, path)
	}
	u := strings.TrimRight(c.BaseURL, "/") + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("kombo: %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("kombo: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.apiKey)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	if integrationID != "" {
		req.Header.Set("X-Integration-Id", integrationID)
	}

	hc := c.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("kombo: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return fmt.Errorf("kombo: %s %s: reading response: %w", method, path, err)
	}
	if c.OnResponse != nil {
		c.OnResponse(Response{Method: method, Path: path, StatusCode: resp.StatusCode, Header: resp.Header.Clone(), Limits: ParseLimits(resp.Header)})
	}
	if len(data) > maxResponseBytes {
		return fmt.Errorf("kombo: %s %s: response body exceeds %d bytes", method, path, maxResponseBytes)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return parseError(resp, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("kombo: %s %s: decoding response: %w", method, path, err)
	}
	return nil
}

// parseError makes an *Error of a response with an error status. The body
// may be Kombo's envelope or anything else, such as a load balancer's page.
func parseError(resp *http.Response, body []byte) *Error {
	e := &Error{StatusCode: resp.StatusCode, RetryAfter: retryAfter(resp, time.Now()), Header: resp.Header.Clone(), Limits: ParseLimits(resp.Header)}
	var env struct {
		Error *struct {
			Code    string `json:"code"` // null leaves these empty
			Title   string `json:"title"`
			Message string `json:"message"`
			LogURL  string `json:"log_url"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &env) == nil && env.Error != nil {
		e.Code, e.Title, e.Message, e.LogURL = env.Error.Code, env.Error.Title, env.Error.Message, env.Error.LogURL
	}
	return e
}
