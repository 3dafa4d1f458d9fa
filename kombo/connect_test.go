package kombo_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/assessgate/assessgate/kombo"
	"github.com/assessgate/assessgate/kombo/kombotest"
)

// TestClient_connect follows Kombo Connect's embedded flow: a link for a
// tenant, the customer connecting, the token exchanged for the integration.
// Every request and answer is checked against Kombo's schemas.
func TestClient_connect(t *testing.T) {
	t.Parallel()
	s, c := newServer(t)
	ctx := t.Context()

	link, err := c.CreateConnectLink(ctx, &kombo.ConnectLinkRequest{
		EndUserEmail: "it@acme.example", EndUserOrganizationName: "Acme, Inc.", EndUserOriginID: "acme",
		IntegrationTool: "greenhouse", Language: "de", LinkType: kombo.LinkTypeMagicLink,
	})
	if err != nil {
		t.Fatal(err)
	}
	links := s.Links()
	if len(links) != 1 || links[0].URL != link {
		t.Fatalf("links = %+v; want one with URL %s", links, link)
	}
	l := links[0]
	if l.IntegrationCategory != kombo.CategoryAssessment || l.EndUserOriginID == nil || *l.EndUserOriginID != "acme" ||
		l.EndUserEmail != "it@acme.example" || l.EndUserOrganizationName != "Acme, Inc." ||
		l.IntegrationTool == nil || *l.IntegrationTool != "greenhouse" || l.Language == nil || *l.Language != "de" || l.LinkType != kombo.LinkTypeMagicLink {
		t.Errorf("link request = %+v; want category ASSESSMENT, tenant acme and the options given", l)
	}
	reqs := s.Requests()
	validate(t, requestSchema(t, "/connect/create-link", "post"), "create-link request", reqs[len(reqs)-1].Body)

	id, token := s.Connect(link, "")
	got, err := c.IntegrationByToken(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != id || got.Tool != "greenhouse" || got.EndUserOriginID == nil || *got.EndUserOriginID != "acme" ||
		got.EndUserOrganizationName != "Acme, Inc." || got.SetupStatus != kombo.SetupCompleted {
		t.Errorf("IntegrationByToken = %+v; want %s of tenant acme", got, id)
	}
	in, err := c.GetIntegration(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if in.Category != kombo.CategoryAssessment || in.EndUser.OriginID == nil || *in.EndUser.OriginID != "acme" {
		t.Errorf("GetIntegration = %+v; want an ASSESSMENT integration of tenant acme", in)
	}

	_, err = c.IntegrationByToken(ctx, "unknown")
	var kerr *kombo.Error
	if !errors.As(err, &kerr) || kerr.StatusCode != http.StatusNotFound {
		t.Errorf("IntegrationByToken(unknown) = %v; want a 404 *kombo.Error", err)
	}
}

func TestClient_CreateConnectLink_validates(t *testing.T) {
	t.Parallel()
	s, c := newServer(t)
	ok := kombo.ConnectLinkRequest{EndUserEmail: "it@acme.example", EndUserOrganizationName: "Acme"}
	tests := []struct {
		name  string
		edit  func(*kombo.ConnectLinkRequest)
		field string
	}{
		{"no email", func(r *kombo.ConnectLinkRequest) { r.EndUserEmail = "" }, "end_user_email"},
		{"bad email", func(r *kombo.ConnectLinkRequest) { r.EndUserEmail = "acme" }, "end_user_email"},
		{"no organisation", func(r *kombo.ConnectLinkRequest) { r.EndUserOrganizationName = "" }, "end_user_organization_name"},
		{"language", func(r *kombo.ConnectLinkRequest) { r.Language = "pt" }, "language"},
		{"link type", func(r *kombo.ConnectLinkRequest) { r.LinkType = "EMAIL" }, "link_type"},
	}
	for _, tt := range tests {
		r := ok
		tt.edit(&r)
		_, err := c.CreateConnectLink(t.Context(), &r)
		var verr *kombo.ValidationError
		if !errors.As(err, &verr) || verr.Field != tt.field {
			t.Errorf("%s: CreateConnectLink = %v; want a ValidationError of %s", tt.name, err, tt.field)
		}
	}
	if n := len(s.Requests()); n != 0 {
		t.Errorf("%d requests sent; want none for invalid links", n)
	}
}

func TestClient_Relink(t *testing.T) {
	t.Parallel()
	s, c := newServer(t)
	s.SetIntegrationState(integrationID, kombo.IntegrationStateInvalid, "")
	link, err := c.Relink(t.Context(), integrationID, kombo.RelinkRequest{Language: "fr"})
	if err != nil {
		t.Fatal(err)
	}
	links := s.Links()
	if len(links) != 1 || links[0].URL != link || links[0].IntegrationID != integrationID || links[0].LinkType != kombo.LinkTypeEmbedded {
		t.Errorf("links = %+v; want an EMBEDDED relink of %s", links, integrationID)
	}
	reqs := s.Requests()
	validate(t, requestSchema(t, "/integrations/{integration_id}/relink", "post"), "relink request", reqs[len(reqs)-1].Body)

	_, err = c.Relink(t.Context(), "lever:unknown", kombo.RelinkRequest{})
	var kerr *kombo.Error
	if !errors.As(err, &kerr) || kerr.Code != kombo.CodeIntegrationNotFound {
		t.Errorf("Relink(unknown) = %v; want %s", err, kombo.CodeIntegrationNotFound)
	}
}

// TestClient_Orders pages lazily: a loop that stops early fetches no
// further page, and a failure ends the sequence with its error.
func TestClient_Orders(t *testing.T) {
	t.Parallel()
	s, c := newServer(t)
	for _, id := range []string{"o1", "o2", "o3", "o4", "o5"} {
		s.AddOrder(integrationID, testOrder(id, kombo.OrderStatusOpen))
	}
	var got []string
	for o, err := range c.Orders(t.Context(), integrationID, kombo.ListOrdersFilter{PageSize: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		if got = append(got, o.ID); len(got) == 3 {
			break
		}
	}
	if len(got) != 3 || got[0] != "o1" || got[2] != "o3" {
		t.Errorf("orders = %v; want o1 o2 o3", got)
	}
	if n := len(s.Requests()); n != 2 {
		t.Errorf("%d requests for 3 orders of pages of 2; want 2", n)
	}

	s.Fail(1, kombotest.Fault{Status: http.StatusServiceUnavailable})
	var errs int
	for _, err := range c.Orders(t.Context(), integrationID, kombo.ListOrdersFilter{}) {
		if err == nil {
			t.Error("an order before the failure")
		}
		errs++
	}
	if errs != 1 {
		t.Errorf("%d errors; want the failure once", errs)
	}
}

// TestClient_limits reads Kombo's rate and concurrency headers from
// successes (OnResponse) and failures (*Error.Limits).
func TestClient_limits(t *testing.T) {
	t.Parallel()
	s, c := newServer(t)
	s.SetClock(func() time.Time { return time.Date(2026, 7, 1, 8, 0, 15, 0, time.UTC) })
	s.SetConcurrencyLimit(10)
	var seen []kombo.Response
	c.OnResponse = func(r kombo.Response) { seen = append(seen, r) }
	if _, err := c.CheckAPIKey(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetPackages(t.Context(), integrationID); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 {
		t.Fatalf("OnResponse called %d times; want 2", len(seen))
	}
	want := kombo.Limits{RateLimit: kombotest.RateLimit, RateRemaining: kombotest.RateLimit - 2, RateReset: 45 * time.Second, HasRate: true,
		ConcurrencyLimit: 10, ConcurrencyRemaining: 9, HasConcurrency: true}
	if seen[1].Limits != want || seen[1].Path != "/assessment/packages" || seen[1].StatusCode != 200 {
		t.Errorf("second response = %+v; want limits %+v", seen[1], want)
	}
	if seen[0].Limits.HasConcurrency {
		t.Errorf("check-api-key limits = %+v; want no concurrency headers", seen[0].Limits)
	}

	s.Fail(1, kombotest.Fault{Status: http.StatusTooManyRequests, Code: kombo.CodeRateLimitExceeded, RetryAfter: 3 * time.Second})
	_, err := c.CheckAPIKey(t.Context())
	var kerr *kombo.Error
	if !errors.As(err, &kerr) {
		t.Fatalf("CheckAPIKey = %v; want *kombo.Error", err)
	}
	if l := kerr.Limits; !l.HasRate || l.RateRemaining != 0 || l.RateReset != 3*time.Second || kerr.Header.Get("ratelimit-limit") == "" {
		t.Errorf("error limits = %+v, header %v; want the 429's ratelimit headers", l, kerr.Header)
	}
}

func TestRemoteFields(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		file   string
		fields kombo.RemoteFields
	}{
		{"request-put-order-result-workday-remote-fields.json", kombo.RemoteFields{Workday: kombo.WorkdayAssessmentStatus("ASSESSMENT_STATUS_PASSED")}},
		{"request-put-order-result-completed.json", kombo.RemoteFields{
			SmartRecruiters: &kombo.SmartRecruitersRemoteFields{ScoreLabel: "82 / 100"},
			Recruitee:       &kombo.RecruiteeRemoteFields{Subtitle: "TypeScript Coding (60 min)"},
		}},
	} {
		want := readResult(t, tt.file).RemoteFields
		if got := tt.fields.JSON(); !jsonEqual(t, got, want) {
			t.Errorf("%s: JSON() = %s; want %s", tt.file, got, want)
		}
		var back kombo.RemoteFields
		if err := json.Unmarshal(want, &back); err != nil || !jsonEqual(t, back.JSON(), want) {
			t.Errorf("%s: remote_fields do not round-trip: %s (%v)", tt.file, back.JSON(), err)
		}
	}
}

// TestWebhooks_matchSchema checks the webhook types against the webhooks
// section of Kombo's document: every example, decoded into its type and
// encoded again, and every webhook kombotest makes, is a valid payload of
// its type.
func TestWebhooks_matchSchema(t *testing.T) {
	t.Parallel()
	check := func(what string, body []byte) {
		t.Helper()
		w, err := kombo.ParseWebhook(body)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		var data any
		switch {
		case w.Order != nil:
			data = w.Order
		case w.IntegrationCreated != nil:
			data = w.IntegrationCreated
		case w.IntegrationDeleted != nil:
			data = w.IntegrationDeleted
		case w.IntegrationStateChanged != nil:
			data = w.IntegrationStateChanged
		case w.ConnectionFlowFailed != nil:
			data = w.ConnectionFlowFailed
		default:
			t.Fatalf("%s: type %s not decoded", what, w.Type)
		}
		again, err := json.Marshal(map[string]any{"id": w.ID, "type": w.Type, "data": data})
		if err != nil {
			t.Fatal(err)
		}
		validate(t, webhookSchema(t, w.Type), what+" as "+w.Type, again)
	}
	for _, name := range glob(t, "webhook-*.json") {
		check(name, readFile(t, name))
	}
	check("kombotest.OrderWebhook", kombotest.OrderWebhook("ev1", kombotest.Order(kombotest.WithIntegration(integrationID))))
	check("kombotest.InlineOrderWebhook", kombotest.InlineOrderWebhook("ev2", kombotest.Order(kombotest.WithIntegration(integrationID))))
	for _, typ := range []string{kombo.EventIntegrationCreated, kombo.EventIntegrationDeleted, kombo.EventIntegrationStateChanged} {
		body, err := kombotest.IntegrationWebhook("ev3", typ, kombotest.Integration{ID: integrationID, Organization: "Acme", OriginID: "acme", State: kombo.IntegrationStateInvalid})
		if err != nil {
			t.Fatal(err)
		}
		check("kombotest "+typ, body)
	}
}
