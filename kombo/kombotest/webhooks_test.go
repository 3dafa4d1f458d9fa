package kombotest_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/assessgate/assessgate/kombo"
	"github.com/assessgate/assessgate/kombo/kombotest"
)

func TestOrderWebhook(t *testing.T) {
	o := kombotest.Order(kombotest.WithID("o1"), kombotest.WithIntegration("workday:x"), kombotest.WithPackage("go_test"), kombotest.WithEmail("c@example.com"))
	if o.ID != "o1" || o.IntegrationID != "workday:x" || o.PackageID != "go_test" || o.Candidate.Email != "c@example.com" || o.Status != kombo.OrderStatusOpen {
		t.Fatalf("Order(options) = %+v; want the options applied to an open order", o)
	}
	for _, tc := range []struct {
		typ  string
		body []byte
	}{
		{kombo.EventOrderReceived, kombotest.OrderWebhook("ev1", o)},
		{kombo.EventInlineOrderReceived, kombotest.InlineOrderWebhook("ev1", o)},
	} {
		w, err := kombo.ParseWebhook(tc.body)
		if err != nil {
			t.Fatalf("ParseWebhook(%s) = %v", tc.body, err)
		}
		if w.ID != "ev1" || w.Type != tc.typ || !reflect.DeepEqual(*w.Order, o) {
			t.Errorf("ParseWebhook(%s) = %+v; want event ev1 of type %s with the order", tc.body, w, tc.typ)
		}
		if !kombo.Verify([]string{"s"}, tc.body, kombotest.Header("s", tc.body).Get(kombo.SignatureHeader)) {
			t.Errorf("Header(s, body) does not verify under s")
		}
	}
	// The same seed makes the same orders.
	a, b := kombotest.NewOrders(7), kombotest.NewOrders(7)
	if x, y := a.Order(), b.Order(); !reflect.DeepEqual(x, y) {
		t.Errorf("NewOrders(7).Order() = %+v and %+v; want the same", x, y)
	}
}

func TestIntegrationWebhook(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	in := kombotest.Integration{ID: "greenhouse:abc", Organization: "Acme Corp", State: kombo.IntegrationStateInvalid, At: at}
	for _, typ := range []string{kombo.EventIntegrationCreated, kombo.EventIntegrationDeleted, kombo.EventIntegrationStateChanged} {
		body, err := kombotest.IntegrationWebhook("", typ, in)
		if err != nil {
			t.Fatal(err)
		}
		w, err := kombo.ParseWebhook(body)
		if err != nil {
			t.Fatalf("ParseWebhook(%s) = %v", body, err)
		}
		if w.Type != typ || len(w.ID) != 24 {
			t.Errorf("ParseWebhook(%s) = %+v; want type %s and a new event id", body, w, typ)
		}
	}
	if _, err := kombotest.IntegrationWebhook("", kombo.EventOrderReceived, in); err == nil {
		t.Errorf("IntegrationWebhook(order-received) = nil error; want one")
	}
}
