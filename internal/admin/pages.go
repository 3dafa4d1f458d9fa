package admin

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/assessgate/assessgate/internal/jobs"
	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/proxy"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/kombo"
)

// pageSize is how many orders or dead letters a page lists.
const pageSize = 50

// --- Sign-in

type loginData struct {
	Next    string
	Error   string
	Message string
}

func (h *Handler) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if _, err := h.session(r); err == nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	d := loginData{Next: next}
	if r.URL.Query().Get("out") != "" {
		d.Message = "You are signed out."
	}
	h.render(w, r, http.StatusOK, "login", layout{Title: "Sign in"}, d)
}

// handleLogin checks the password. Every attempt is counted for its client
// (see signInDelay): a client that must still wait gets 429 with
// Retry-After, whatever the password; a success stores a session, sets its
// cookie and goes where the sign-in page was asked for.
func (h *Handler) handleLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	ctx, ip := r.Context(), proxy.ClientIP(r)
	next := safeNext(r.PostFormValue("next"))
	att, err := h.cfg.Store.CountSignInAttempt(ctx, throttleKey(ip), signInDelay)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if att.Wait > 0 {
		secs := int((att.Wait + time.Second - 1) / time.Second)
		h.log.Warn("admin: sign-in refused: waiting after failures", "remote", ip, "attempts", att.Attempts, "wait_s", secs)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		h.render(w, r, http.StatusTooManyRequests, "login", layout{Title: "Sign in"}, loginData{Next: next,
			Error: fmt.Sprintf("Too many failed sign-ins from your address: try again in %d s.", secs)})
		return
	}
	if !h.checkPassword(r.PostFormValue("password")) {
		h.log.Warn("admin: sign-in failed", "remote", ip, "attempts", att.Attempts)
		h.render(w, r, http.StatusUnauthorized, "login", layout{Title: "Sign in"}, loginData{Next: next, Error: "Wrong password."})
		return
	}
	if err := h.cfg.Store.ForgetSignInAttempts(ctx, throttleKey(ip)); err != nil {
		h.fail(w, r, err)
		return
	}
	token, err := h.newSession(ctx, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.setCookie(w, r, token, int(SessionTTL.Seconds()))
	h.log.Info("admin: signed in", "remote", ip)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// handleLogout ends the session for every replica, and deletes the cookie.
func (h *Handler) handleLogout(w http.ResponseWriter, r *http.Request, s session) {
	if err := h.cfg.Store.EndAdminSession(r.Context(), s.ID); err != nil {
		h.fail(w, r, err)
		return
	}
	h.setCookie(w, r, "", -1)
	h.log.Info("admin: signed out", "session", s.ID, "remote", proxy.ClientIP(r))
	http.Redirect(w, r, "/admin/login?out=1", http.StatusSeeOther)
}

// safeNext returns p if it is a clean admin page of this site (an absolute
// path under /admin/, as path.Clean leaves it, of printable characters
// only), else the overview, so that the sign-in cannot be made to send
// anyone elsewhere or carry anything odd.
func safeNext(p string) string {
	const home = "/admin/"
	if len(p) > 2000 || strings.ContainsAny(p, "\\") {
		return home
	}
	for _, c := range p {
		if c < 0x20 || c == 0x7f || !unicode.IsPrint(c) {
			return home
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Fragment != "" || u.Opaque != "" {
		return home
	}
	clean := path.Clean(u.Path)
	if strings.HasSuffix(u.Path, "/") && clean != "/" {
		clean += "/"
	}
	if clean != u.Path || u.RawPath != "" || !strings.HasPrefix(u.Path, home) || strings.HasPrefix(u.Path, "/admin/login") {
		return home
	}
	return p
}

// --- Overview

type stateCount struct {
	State orders.State
	Count int
}

type kindCount struct {
	Kind  string
	Count int
}

type overviewData struct {
	WeakSecrets []string
	States      []stateCount
	Total       int
	Oldest      *jobs.WaitingJob
	DeadLetters int
	DeadByKind  []kindCount
	Errors      []writebackError
	ErrorTotal  int
	Since       time.Time
	// Parked is the work waiting for an integration's setup or for
	// KOMBO_API_KEY (the oldest first), ParkedTotal how much in all.
	Parked      []*orders.Parked
	ParkedTotal int
	Stuck       []store.StuckOrder
	CanAct      bool // the stuck list's actions are there
}

func (h *Handler) handleOverview(w http.ResponseWriter, r *http.Request, s session) {
	ctx := r.Context()
	counts, err := h.cfg.Store.CountOrdersByState(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := overviewData{Since: h.now().Add(-24 * time.Hour), WeakSecrets: h.cfg.WeakSecrets}
	for _, st := range orders.States() {
		d.States = append(d.States, stateCount{st, counts[st]})
		d.Total += counts[st]
	}
	if d.Oldest, err = jobs.OldestWaiting(ctx, h.cfg.Jobs); err != nil {
		h.fail(w, r, err)
		return
	}
	dead, err := jobs.CountDeadLetters(ctx, h.cfg.Store)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.DeadByKind, d.DeadLetters = sortedKinds(dead)
	errs, total, err := h.cfg.Store.FindWritebackErrors(ctx, d.Since, 10)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, e := range errs {
		d.Errors = append(d.Errors, newWritebackError(e))
	}
	d.ErrorTotal = total
	parkedCounts, err := h.cfg.Store.ParkedCounts(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, n := range parkedCounts {
		d.ParkedTotal += n
	}
	if d.Parked, err = h.cfg.Store.ParkedWork(ctx, store.ParkedFilter{Limit: 10}); err != nil {
		h.fail(w, r, err)
		return
	}
	if d.Stuck, err = h.cfg.Store.StuckOrders(ctx); err != nil {
		h.fail(w, r, err)
		return
	}
	d.CanAct = h.cfg.Reconciler != nil
	h.page(w, r, s, "overview", "Overview", "overview", d)
}

// handleCloseStuck closes a stuck order at Kombo (a CANCELLED result).
func (h *Handler) handleCloseStuck(w http.ResponseWriter, r *http.Request, _ session) {
	if h.cfg.Reconciler == nil {
		h.errorPage(w, r, http.StatusServiceUnavailable, "Not available", "Reconciliation is not configured.")
		return
	}
	id := r.PathValue("id")
	if err := h.cfg.Reconciler.CloseStuck(r.Context(), id); err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("admin: stuck order closed at Kombo", "order_id", id)
	http.Redirect(w, r, "/admin/?closed=1", http.StatusSeeOther)
}

// handleRetryStuck takes a stuck order again.
func (h *Handler) handleRetryStuck(w http.ResponseWriter, r *http.Request, _ session) {
	if h.cfg.Reconciler == nil {
		h.errorPage(w, r, http.StatusServiceUnavailable, "Not available", "Reconciliation is not configured.")
		return
	}
	res, err := h.cfg.Reconciler.RetryStuck(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("admin: stuck order retried", "order_id", res.OrderID, "taken", res.Taken)
	taken := "0"
	if res.Taken {
		taken = "1"
	}
	http.Redirect(w, r, "/admin/?taken="+taken, http.StatusSeeOther)
}

func sortedKinds(m map[string]int) ([]kindCount, int) {
	var list []kindCount
	total := 0
	for k, n := range m {
		list = append(list, kindCount{k, n})
		total += n
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Kind < list[j].Kind })
	return list, total
}

// --- Orders

type ordersData struct {
	Filter   orderFilterForm
	Orders   []*orders.Order
	Next     string  // the next page's URL, if any; empty when NextForm is used
	NextForm []field // the next page's form fields, when the filter has an e-mail address
	CSRF     string
	States   []orders.State
	Statuses []kombo.OrderStatus
}

// field is a hidden form field.
type field struct{ Name, Value string }

// orderFilterForm is the filter form as it was filled in.
type orderFilterForm struct {
	Status, State, IntegrationID, TenantID, PackageID, Email string
}

// handleOrders lists orders, filtered. The filter form is POSTed, so that
// a candidate's e-mail address does not travel in the URL (where proxies
// log it); a GET with the same parameters still works, for links.
func (h *Handler) handleOrders(w http.ResponseWriter, r *http.Request, s session) {
	form := orderFilterForm{
		Status: strings.ToUpper(strings.TrimSpace(r.FormValue("status"))), State: strings.TrimSpace(r.FormValue("state")),
		IntegrationID: strings.TrimSpace(r.FormValue("integration_id")), TenantID: strings.TrimSpace(r.FormValue("tenant_id")),
		PackageID: strings.TrimSpace(r.FormValue("package_id")),
		Email:     strings.TrimSpace(r.FormValue("email")),
	}
	f := orders.OrderFilter{Cursor: r.FormValue("cursor"), Limit: pageSize}
	if form.Status != "" {
		st := kombo.OrderStatus(form.Status)
		if !st.Valid() {
			h.errorPage(w, r, http.StatusBadRequest, "Bad filter", fmt.Sprintf("status %q: choose OPEN, COMPLETED, CANCELLED or REJECTED.", form.Status))
			return
		}
		f.Status = &st
	}
	if form.State != "" {
		st := orders.State(form.State)
		if !st.Valid() {
			h.errorPage(w, r, http.StatusBadRequest, "Bad filter", fmt.Sprintf("state %q: choose %s.", form.State, orders.StateNames()))
			return
		}
		f.State = &st
	}
	for _, p := range []struct {
		v   string
		dst **string
	}{{form.IntegrationID, &f.IntegrationID}, {form.TenantID, &f.TenantID}, {form.PackageID, &f.PackageID}, {form.Email, &f.Email}} {
		if p.v != "" {
			*p.dst = &p.v
		}
	}
	list, next, err := h.cfg.Store.FindOrders(r.Context(), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := ordersData{Filter: form, Orders: list, States: orders.States(), CSRF: h.csrfToken(s),
		Statuses: []kombo.OrderStatus{kombo.OrderStatusOpen, kombo.OrderStatusCompleted, kombo.OrderStatusCancelled, kombo.OrderStatusRejected}}
	if next != "" {
		nq := url.Values{}
		for k, v := range map[string]string{"status": form.Status, "state": form.State, "integration_id": form.IntegrationID,
			"tenant_id": form.TenantID, "package_id": form.PackageID, "email": form.Email} {
			if v != "" {
				nq.Set(k, v)
			}
		}
		nq.Set("cursor", next)
		if form.Email == "" {
			d.Next = "/admin/orders?" + nq.Encode()
		} else {
			for _, k := range slices.Sorted(maps.Keys(nq)) {
				d.NextForm = append(d.NextForm, field{k, nq.Get(k)})
			}
		}
	}
	h.page(w, r, s, "orders", "Orders", "orders", d)
}

// --- One order

type orderData struct {
	O           *orders.Order
	Name        string
	Description string
	Location    string
	HiringTeam  []string
	Integration *orders.Integration
	Result      *orders.Result
	Parked      *orders.Parked // the parked write-back, if any
	Link        linkState
	Events      []eventRow
}

// linkState is where the candidate is with their link.
type linkState struct {
	InvitedAt, StartedAt, ExpiresAt *time.Time
	Expired                         bool
}

func (h *Handler) handleOrder(w http.ResponseWriter, r *http.Request, s session) {
	ctx := r.Context()
	o, err := h.cfg.Store.FindOrderByID(ctx, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := orderData{O: o, Name: candidateName(o.Candidate), Location: location(o.Job.Location)}
	if o.Job.Description != nil {
		d.Description = htmlToText(*o.Job.Description)
	}
	for _, m := range o.Job.HiringTeam {
		d.HiringTeam = append(d.HiringTeam, hiringMember(m))
	}
	if integ, err := h.cfg.Store.FindIntegrationByID(ctx, o.IntegrationID); err == nil {
		d.Integration = integ
	}
	if res, err := h.cfg.Store.LatestResult(ctx, o.ID); err == nil {
		d.Result = res
	}
	if parked, err := h.cfg.Store.ParkedWriteback(ctx, o.ID); err == nil {
		d.Parked = parked[o.ID]
	}
	d.Link = linkState{InvitedAt: o.InvitedAt, StartedAt: o.StartedAt, ExpiresAt: o.ExpiresAt,
		Expired: o.LinkExpired(h.now())}
	for _, e := range o.Timeline {
		d.Events = append(d.Events, newEventRow(e))
	}
	h.page(w, r, s, "order", "Order "+o.ID, "orders", d)
}

// --- Dead letters

type deadLettersData struct {
	Kind    string
	Letters []jobs.DeadLetter
	ByKind  []kindCount
	Total   int
	Next    string
	Back    string
}

func (h *Handler) handleDeadLetters(w http.ResponseWriter, r *http.Request, s session) {
	ctx := r.Context()
	kind := r.URL.Query().Get("kind")
	list, next, err := jobs.ListDeadLetters(ctx, h.cfg.Jobs, kind, pageSize, r.URL.Query().Get("cursor"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	counts, err := jobs.CountDeadLetters(ctx, h.cfg.Store)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := deadLettersData{Kind: kind, Letters: list, Back: "/admin/dead-letters"}
	d.ByKind, d.Total = sortedKinds(counts)
	if kind != "" {
		d.Back += "?kind=" + url.QueryEscape(kind)
	}
	if next != "" {
		nq := url.Values{"cursor": {next}}
		if kind != "" {
			nq.Set("kind", kind)
		}
		d.Next = "/admin/dead-letters?" + nq.Encode()
	}
	h.page(w, r, s, "deadletters", "Dead letters", "dead-letters", d)
}

// handleRetryOne replays one dead letter and goes back to the page the form
// was on.
func (h *Handler) handleRetryOne(w http.ResponseWriter, r *http.Request, _ session) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.errorPage(w, r, http.StatusBadRequest, "Bad request", fmt.Sprintf("%q is not a job id.", r.PathValue("id")))
		return
	}
	d, err := jobs.RetryDeadLetter(r.Context(), h.cfg.Jobs, h.cfg.Store, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("admin: dead letter replayed", "job_id", id, "kind", d.Kind, "order_id", d.OrderID)
	http.Redirect(w, r, withQuery(safeNext(r.PostFormValue("back")), "retried", "1"), http.StatusSeeOther)
}

// handleRetryKind replays every dead letter of the form's kind ("all" for
// every kind).
func (h *Handler) handleRetryKind(w http.ResponseWriter, r *http.Request, _ session) {
	kind := strings.TrimSpace(r.PostFormValue("kind"))
	if kind == "" {
		h.errorPage(w, r, http.StatusBadRequest, "Bad request", `Say which dead letters to retry: a kind, or "all".`)
		return
	}
	if kind == "all" {
		kind = ""
	}
	n, err := jobs.RetryDeadLetters(r.Context(), h.cfg.Jobs, h.cfg.Store, kind)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("admin: dead letters replayed", "kind", kind, "count", n)
	http.Redirect(w, r, withQuery("/admin/dead-letters", "retried", strconv.Itoa(n)), http.StatusSeeOther)
}

// withQuery returns the path p with key=value added to its query.
func withQuery(p, key, value string) string {
	u, err := url.Parse(p)
	if err != nil {
		return p
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// --- Integrations and packages

type integrationsData struct {
	Tenants      []tenantGroup
	CatalogueSet bool
	Hash         string
	Kombo        bool // whether reconnection links can be made
}

// tenantGroup is a tenant's integrations; Tenant is "" for those without
// one.
type tenantGroup struct {
	Tenant       string
	Integrations []integrationRow
	// Settings are how the tenant's candidates are written to; nil: the
	// defaults (PUT /api/v1/tenants/{tenant_id} sets them).
	Settings *orders.TenantSettings
}

type integrationRow struct {
	*orders.Integration
	DeadLetters int
	// Parked is how much work (write-backs, package pushes) waits for the
	// integration's setup or for KOMBO_API_KEY.
	Parked int
}

func (h *Handler) handleIntegrations(w http.ResponseWriter, r *http.Request, s session) {
	list, err := h.cfg.Store.ListIntegrations(r.Context(), store.IntegrationFilter{})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	deadLetters, err := jobs.DeadLettersByIntegration(r.Context(), h.cfg.Store)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	parked, err := h.cfg.Store.ParkedCountsByIntegration(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	pkgs, hash, err := h.cfg.Store.FindCatalogue(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	settings, err := h.cfg.Store.ListTenantSettings(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	byTenant := map[string]*orders.TenantSettings{}
	for _, ts := range settings {
		byTenant[ts.TenantID] = ts
	}
	d := integrationsData{CatalogueSet: pkgs != nil, Hash: hash, Kombo: h.cfg.Kombo != nil}
	for _, i := range list { // grouped by tenant already
		tenant := ""
		if i.OriginID != nil {
			tenant = *i.OriginID
		}
		if n := len(d.Tenants); n == 0 || d.Tenants[n-1].Tenant != tenant {
			d.Tenants = append(d.Tenants, tenantGroup{Tenant: tenant, Settings: byTenant[tenant]})
		}
		g := &d.Tenants[len(d.Tenants)-1]
		g.Integrations = append(g.Integrations, integrationRow{Integration: i, DeadLetters: deadLetters[i.ID], Parked: parked[i.ID]})
	}
	h.page(w, r, s, "integrations", "Integrations", "integrations", d)
}

// handleRelink makes a new reconnection link for an integration.
func (h *Handler) handleRelink(w http.ResponseWriter, r *http.Request, _ session) {
	id := r.PathValue("id")
	if _, err := h.cfg.Store.FindIntegrationByID(r.Context(), id); err != nil {
		h.fail(w, r, err)
		return
	}
	if h.cfg.Kombo == nil {
		h.errorPage(w, r, http.StatusServiceUnavailable, "Kombo is not configured", "KOMBO_API_KEY is not set: assessgate cannot ask Kombo for a reconnection link.")
		return
	}
	if _, err := jobs.MakeRelink(r.Context(), h.cfg.Kombo, h.cfg.Store, id); err != nil {
		h.log.Warn("admin: relink failed", "integration_id", id, "err", err)
		h.errorPage(w, r, http.StatusBadGateway, "Kombo did not make the link", "Kombo refused or failed: "+err.Error())
		return
	}
	h.log.Info("admin: reconnection link made", "integration_id", id)
	http.Redirect(w, r, withQuery("/admin/integrations", "relinked", "1"), http.StatusSeeOther)
}

// handlePushOne pushes the packages to one integration again.
func (h *Handler) handlePushOne(w http.ResponseWriter, r *http.Request, _ session) {
	id := r.PathValue("id")
	if err := jobs.PushPackagesTo(r.Context(), h.cfg.Jobs, h.cfg.Store, id); err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("admin: package push queued", "integration_id", id)
	http.Redirect(w, r, withQuery("/admin/integrations", "pushed_one", "1"), http.StatusSeeOther)
}

type packagesData struct {
	Packages []orders.Package
	Active   int
	Stored   bool
}

func (h *Handler) handlePackages(w http.ResponseWriter, r *http.Request, s session) {
	pkgs, hash, err := h.cfg.Store.FindCatalogue(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	list, err := h.cfg.Store.FindIntegrations(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := packagesData{Packages: pkgs, Stored: hash != ""}
	for _, i := range list {
		if i.State == kombo.IntegrationStateActive {
			d.Active++
		}
	}
	h.page(w, r, s, "packages", "Packages", "packages", d)
}

func (h *Handler) handlePushPackages(w http.ResponseWriter, r *http.Request, _ session) {
	n, err := jobs.PushPackagesToAll(r.Context(), h.cfg.Jobs, h.cfg.Store)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("admin: package push queued", "integrations", n)
	http.Redirect(w, r, withQuery("/admin/packages", "pushed", strconv.Itoa(n)), http.StatusSeeOther)
}

// errorStatus maps an error to a status, a title and what the user sees.
func errorStatus(err error) (int, string, string) {
	switch orders.ErrorCode(err) {
	case orders.ENOTFOUND:
		return http.StatusNotFound, "Not found", orders.ErrorMessage(err)
	case orders.EINVALID:
		return http.StatusBadRequest, "Bad request", orders.ErrorMessage(err)
	case orders.ECONFLICT:
		return http.StatusConflict, "Conflict", orders.ErrorMessage(err)
	case orders.EUNAVAILABLE:
		return http.StatusServiceUnavailable, "Unavailable", orders.ErrorMessage(err)
	}
	return http.StatusInternalServerError, "Internal error", "Something went wrong; it has been logged. Try again in a moment."
}

func atoiOr(s string, def int) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return def
	}
	return n
}
