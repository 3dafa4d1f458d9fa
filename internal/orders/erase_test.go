package orders_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/kombo"
)

// personal lists values of the webhook fixture that are personal data or
// describe the job a person applied for.
var personal = []string{
	"maria.schneider@example.com", "Maria", "Schneider", "+49 30 1234567",
	"Senior Backend Engineer", "ENG-2026-042", "payment platform", "Lohmühlenstraße", "12435",
	"jonas.weber@acme-corp.example", "Jonas", "Weber", "lena.fischer@acme-corp.example", "Lena", "Fischer",
}

func TestErasedOrder(t *testing.T) {
	b, err := os.ReadFile("../../kombo/testdata/webhook-assessment-order-received.json")
	if err != nil {
		t.Fatal(err)
	}
	w, err := kombo.ParseWebhook(b)
	if err != nil {
		t.Fatal(err)
	}
	erased, err := json.Marshal(orders.ErasedOrder(*w.Order))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range personal {
		if strings.Contains(string(erased), v) {
			t.Errorf("ErasedOrder = %s; still holds %q", erased, v)
		}
	}
	for _, id := range []string{`"id":"7Gd2kPqXwR9sTbVn3LmYc5Hz"`, `"integration_id":"greenhouse:8qTmYx3ZbPw2KcRvN5dLhJ4f"`,
		`"package_id":"ts-coding-60"`, `"status":"OPEN"`, `"remote_id":"48213377"`, `"remote_id":"91023455"`, `"remote_id":"4410982"`,
		`"email":""`, `"hiring_team":[]`} {
		if !strings.Contains(string(erased), id) {
			t.Errorf("ErasedOrder = %s; want it to keep %s", erased, id)
		}
	}
}

func TestErasedResult(t *testing.T) {
	score, maxScore := 82.0, 100.0
	done := "2026-07-30T10:00:00.000Z"
	for _, tt := range []struct {
		name string
		in   kombo.ResultRequest
		want string
	}{
		{"Completed",
			kombo.ResultRequest{
				Status: kombo.OrderStatusCompleted, ResultURL: "https://vendor.example/r/maria-schneider", CompletedAt: &done,
				Score: &score, MaxScore: &maxScore,
				Attributes: []kombo.Attribute{
					kombo.TextAttribute("Reviewer note", "Maria did well"),
					kombo.SubResult("algo", "Algorithms", 40, 50, kombo.OrderStatusCompleted),
				},
				Attachments:  []kombo.Attachment{{Name: "maria.pdf", ContentType: "application/pdf", Data: "JVBERi0="}},
				RemoteFields: json.RawMessage(`{"smartrecruiters":{"scoreLabel":"Maria 82"}}`),
			},
			`{"status":"COMPLETED","result_url":"","completed_at":"2026-07-30T10:00:00.000Z","score":82,"max_score":100,` +
				`"attributes":[{"type":"SUB_RESULT","id":"algo","label":"Algorithms","score":{"value":40,"max":50},"status":"COMPLETED"}]}`},
		{"CancelledWithReason",
			kombo.ResultRequest{Status: kombo.OrderStatusCancelled, ResultURL: "https://assess.example", CompletedAt: &done,
				Attributes: []kombo.Attribute{kombo.TextAttribute("Reason", "The invitation expired")}},
			`{"status":"CANCELLED","result_url":"","completed_at":"2026-07-30T10:00:00.000Z"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(orders.ErasedResult(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("ErasedResult = %s; want %s", got, tt.want)
			}
		})
	}
}
