package kombotest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/assessgate/assessgate/kombo"
)

func (s *Server) routes() {
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("PUT /assessment/packages", s.putPackages)
	s.mux.HandleFunc("GET /assessment/packages", s.getPackages)
	s.mux.HandleFunc("GET /assessment/orders", s.getOrders)
	s.mux.HandleFunc("GET /assessment/orders/open", s.getOpenOrders)
	s.mux.HandleFunc("PUT /assessment/orders/{id}/result", s.putResult)
	s.mux.HandleFunc("GET /check-api-key", s.checkAPIKey)
	s.mux.HandleFunc("GET /integrations/{id}", s.getIntegration)
	s.mux.HandleFunc("POST /integrations/{id}/relink", s.relink)
	s.mux.HandleFunc("POST /connect/create-link", s.createLink)
	s.mux.HandleFunc("GET /connect/integration-by-token/{token}", s.integrationByToken)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, kombo.CodeInputInvalid, fmt.Sprintf("No route for %s %s.", r.Method, r.URL.Path))
	})
}

// writeJSON sends v as a JSON response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic("kombotest: " + err.Error())
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// writeError sends Kombo's error envelope. An empty code is sent as null,
// with a null title, as in Kombo's minimal error.
func writeError(w http.ResponseWriter, status int, code, message string) {
	if message == "" {
		message = http.StatusText(status)
	}
	var codePtr, title *string
	if code != "" {
		codePtr, title = &code, new(http.StatusText(status))
	}
	writeJSON(w, status, map[string]any{
		"status": "error",
		"error": map[string]any{
			"code":    codePtr,
			"title":   title,
			"message": message,
			"log_url": "https://app.kombo.dev/kombotest/logs?interactionId=" + NewID(),
		},
	})
}

// writeSuccess sends Kombo's success envelope; write endpoints add warnings.
func writeSuccess(w http.ResponseWriter, data any, write bool) {
	env := map[string]any{"status": "success", "data": data}
	if write {
		env["warnings"] = []kombo.Warning{}
	}
	writeJSON(w, http.StatusOK, env)
}

// decodeBody decodes a request body into v, answering 400 if it cannot.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	body, _ := io.ReadAll(r.Body)
	err := json.Unmarshal(body, v)
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return true
	case errors.As(err, &typeErr):
		writeError(w, http.StatusBadRequest, kombo.CodeInputInvalid,
			fmt.Sprintf("Invalid request body: %q has the wrong type.", typeErr.Field))
	default:
		writeError(w, http.StatusBadRequest, kombo.CodeInputInvalid, "Invalid request body: "+err.Error())
	}
	return false
}

// refuseUntilSetUp answers as Kombo does (since 2026-05-19, HTTP 409) a
// write for an integration whose setup is not complete, and reports
// whether it did: INTEGRATION.SETUP_INCOMPLETE while the customer has not
// finished the setup, INTEGRATION.SETUP_SYNC_PENDING during its final sync.
func (s *Server) refuseUntilSetUp(w http.ResponseWriter, r *http.Request) bool {
	id := r.Header.Get("X-Integration-Id")
	s.mu.Lock()
	var setup string
	if in := s.integrations[id]; in != nil {
		setup = in.info.SetupStatus
	}
	s.mu.Unlock()
	switch setup {
	case SetupIncomplete:
		writeError(w, http.StatusConflict, kombo.CodeSetupIncomplete,
			fmt.Sprintf("The setup of integration %s is incomplete. Ask your customer to finish it in Kombo Connect.", id))
		return true
	case SetupFinalSyncPending:
		writeError(w, http.StatusConflict, kombo.CodeSetupSyncPending,
			fmt.Sprintf("Integration %s is running its final setup sync. Try again once it has finished.", id))
		return true
	}
	return false
}

func (s *Server) putPackages(w http.ResponseWriter, r *http.Request) {
	var l kombo.PackageList
	if !decodeBody(w, r, &l) {
		return
	}
	if s.refuseUntilSetUp(w, r) {
		return
	}
	if err := l.Validate(); err != nil {
		writeError(w, http.StatusBadRequest, kombo.CodeInputInvalid, "Invalid request body: "+err.Error())
		return
	}
	s.mu.Lock()
	in := s.integration(r.Header.Get("X-Integration-Id"))
	now := kombo.FormatTime(s.now())
	in.packages = make([]storedPackage, len(l.Packages))
	for i, p := range l.Packages {
		in.packages[i] = storedPackage{p, now}
	}
	s.mu.Unlock()
	writeSuccess(w, struct{}{}, true)
}

func (s *Server) getPackages(w http.ResponseWriter, r *http.Request) {
	type packageJSON struct {
		ID          string             `json:"id"`
		Type        *kombo.PackageType `json:"type"`
		Name        string             `json:"name"`
		Description string             `json:"description"`
		UpdatedAt   *string            `json:"updated_at"`
	}
	s.mu.Lock()
	in := s.integration(r.Header.Get("X-Integration-Id"))
	pkgs := make([]packageJSON, len(in.packages))
	for i, p := range in.packages {
		pkgs[i] = packageJSON{p.ID, &p.Type, p.Name, p.Description, &p.updatedAt}
	}
	s.mu.Unlock()
	writeSuccess(w, map[string]any{"packages": pkgs}, false)
}

// createdAfterRE is Kombo's pattern for created_after.
var createdAfterRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?)?Z?$`)

// orderQuery is a parsed query of GET /assessment/orders.
type orderQuery struct {
	after        int // seq from the cursor
	pageSize     int
	ids          []string
	statuses     []kombo.OrderStatus
	createdAfter time.Time
}

// parseOrderQuery parses the query parameters of the order lists; the
// deprecated open list takes only cursor and page_size.
func parseOrderQuery(r *http.Request, filters bool) (orderQuery, error) {
	q := r.URL.Query()
	oq := orderQuery{pageSize: 100}
	if c := q.Get("cursor"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		seq, ok := strings.CutPrefix(string(b), "kombotest:")
		if err != nil || !ok {
			return oq, fmt.Errorf("invalid cursor %q", c)
		}
		if oq.after, err = strconv.Atoi(seq); err != nil {
			return oq, fmt.Errorf("invalid cursor %q", c)
		}
	}
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 250 {
			return oq, fmt.Errorf("page_size must be an integer from 1 to 250, not %q", v)
		}
		oq.pageSize = n
	}
	if !filters {
		return oq, nil
	}
	if v := q.Get("ids"); v != "" {
		oq.ids = strings.Split(v, ",")
	}
	if v := q.Get("statuses"); v != "" {
		for _, st := range strings.Split(v, ",") {
			if !kombo.OrderStatus(st).Valid() {
				return oq, fmt.Errorf("statuses: unknown status %q", st)
			}
			oq.statuses = append(oq.statuses, kombo.OrderStatus(st))
		}
	}
	if v := q.Get("created_after"); v != "" {
		t, err := parseTime(v)
		if err != nil {
			return oq, fmt.Errorf("created_after: %q is not of the form 2006-01-02T15:04:05.000Z", v)
		}
		oq.createdAfter = t
	}
	return oq, nil
}

// parseTime parses a timestamp matching Kombo's date-time pattern, in UTC.
func parseTime(v string) (time.Time, error) {
	if !createdAfterRE.MatchString(v) {
		return time.Time{}, errors.New("bad timestamp")
	}
	v = strings.TrimSuffix(v, "Z")
	layout := "2006-01-02"
	if strings.Contains(v, "T") {
		layout = "2006-01-02T15:04:05.999999999"
	}
	return time.Parse(layout, v)
}

func (s *Server) getOrders(w http.ResponseWriter, r *http.Request) {
	s.listOrders(w, r, false)
}

func (s *Server) getOpenOrders(w http.ResponseWriter, r *http.Request) {
	s.listOrders(w, r, true)
}

// listOrders answers both order lists. The open list has only OPEN orders,
// without their status field.
func (s *Server) listOrders(w http.ResponseWriter, r *http.Request, open bool) {
	oq, err := parseOrderQuery(r, !open)
	if err != nil {
		writeError(w, http.StatusBadRequest, kombo.CodeInputInvalid, "Invalid query: "+err.Error())
		return
	}
	if open {
		oq.statuses = []kombo.OrderStatus{kombo.OrderStatusOpen}
	}
	var page []kombo.Order
	var next *string
	s.mu.Lock()
	for _, so := range s.integration(r.Header.Get("X-Integration-Id")).orders {
		switch {
		case so.seq <= oq.after,
			len(oq.ids) > 0 && !slices.Contains(oq.ids, so.order.ID),
			len(oq.statuses) > 0 && !slices.Contains(oq.statuses, so.order.Status),
			so.created.Before(oq.createdAfter):
			continue
		}
		if len(page) == oq.pageSize {
			next = new(base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "kombotest:%d", oq.after)))
			break
		}
		page = append(page, listed(so.order))
		oq.after = so.seq
	}
	s.mu.Unlock()

	results := make([]any, len(page))
	for i, o := range page {
		results[i] = o
		if open {
			results[i] = withoutStatus(o)
		}
	}
	writeSuccess(w, map[string]any{"next": next, "results": results}, false)
}

// listed returns o as the order lists show it: without integration_id, and
// with empty arrays where o has nil slices, since Kombo's schema requires
// arrays there.
func listed(o kombo.Order) kombo.Order {
	o = clone(o)
	o.IntegrationID = ""
	if o.Job.HiringTeam == nil {
		o.Job.HiringTeam = []kombo.HiringTeamMember{}
	}
	for i, m := range o.Job.HiringTeam {
		if m.HiringTeamRoles == nil {
			o.Job.HiringTeam[i].HiringTeamRoles = []string{}
		}
	}
	return o
}

func withoutStatus(o kombo.Order) map[string]json.RawMessage {
	b, _ := json.Marshal(o)
	var m map[string]json.RawMessage
	json.Unmarshal(b, &m)
	delete(m, "status")
	return m
}

func (s *Server) putResult(w http.ResponseWriter, r *http.Request) {
	var res kombo.ResultRequest
	if !decodeBody(w, r, &res) {
		return
	}
	if err := res.Validate(); err != nil {
		writeError(w, http.StatusBadRequest, kombo.CodeInputInvalid, "Invalid request body: "+err.Error())
		return
	}
	if s.refuseUntilSetUp(w, r) {
		return
	}
	body, err := json.Marshal(&res)
	if err != nil {
		panic("kombotest: " + err.Error())
	}
	integrationID, id := r.Header.Get("X-Integration-Id"), r.PathValue("id")

	s.mu.Lock()
	so := s.findOrder(integrationID, id)
	var status kombo.OrderStatus
	if so != nil {
		status = so.order.Status
		if status == kombo.OrderStatusOpen {
			so.order.Status = res.Status
			s.results[id] = append(s.results[id], body)
		}
	}
	s.mu.Unlock()

	switch {
	case so == nil:
		writeError(w, http.StatusNotFound, kombo.CodeInputInvalid,
			fmt.Sprintf("Assessment order %s not found in integration %s.", id, integrationID))
	case status != kombo.OrderStatusOpen:
		writeError(w, http.StatusBadRequest, kombo.CodeInputInvalid,
			fmt.Sprintf("The status of assessment order %s can only be changed while it is OPEN; it is %s.", id, status))
	default:
		writeSuccess(w, struct{}{}, true)
	}
}

func (s *Server) checkAPIKey(w http.ResponseWriter, r *http.Request) {
	writeSuccess(w, kombo.APIKeyInfo{EnvironmentID: EnvironmentID, CustomerID: EnvironmentID}, false)
}

func (s *Server) getIntegration(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	in := s.integrations[id]
	var info kombo.Integration
	if in != nil {
		info = clone(in.info)
	}
	s.mu.Unlock()
	if in == nil {
		writeError(w, http.StatusNotFound, kombo.CodeIntegrationNotFound, fmt.Sprintf("Integration %s not found.", id))
		return
	}
	if info.ReadModels == nil {
		info.ReadModels = []kombo.IntegrationModel{}
	}
	if info.WriteActions == nil {
		info.WriteActions = []kombo.IntegrationModel{}
	}
	writeSuccess(w, info, false)
}
