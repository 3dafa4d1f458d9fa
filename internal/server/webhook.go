package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/assessgate/assessgate/internal/metrics"
	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/proxy"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/kombo"
)

// MaxWebhookBytes is the largest webhook body taken. Kombo's orders are a
// few KiB; a job description would have to be enormous to come near.
const MaxWebhookBytes = 1 << 20

// handleKomboWebhook takes Kombo's webhooks. It reads the raw body, verifies
// its signature as bytes, and only then decodes it. A 200 means what the
// webhook says is committed to disk.
func (s *Server) handleKomboWebhook(w http.ResponseWriter, r *http.Request) {
	s.takeWebhook(w, r, s.store.Intake)
}

// takeWebhook is the webhook path, storing through intake.
func (s *Server) takeWebhook(w http.ResponseWriter, r *http.Request, intake func(context.Context, *store.Intake) (*store.IntakeResult, error)) {
	if r.ContentLength > MaxWebhookBytes {
		s.refuseWebhook(w, r, metrics.RefusedTooLarge, orders.Errorf(orders.ETOOLARGE, "body of %d bytes is larger than the limit of %d bytes", r.ContentLength, MaxWebhookBytes))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxWebhookBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		reason := metrics.RefusedInvalid
		if errors.As(err, &tooLarge) {
			reason = metrics.RefusedTooLarge
		}
		s.refuseWebhook(w, r, reason, bodyError(err, MaxWebhookBytes))
		return
	}

	sig := r.Header.Get(kombo.SignatureHeader)
	if sig == "" {
		s.refuseWebhook(w, r, metrics.RefusedSignature, orders.Errorf(orders.EUNAUTHORIZED, "missing %s header", kombo.SignatureHeader))
		return
	}
	if !kombo.Verify(s.cfg.WebhookSecrets, body, sig) {
		s.logger.Warn("webhook signature mismatch", "remote", proxy.ClientIP(r), "bytes", len(body))
		s.refuseWebhook(w, r, metrics.RefusedSignature, orders.Errorf(orders.EUNAUTHORIZED, "%s does not match the body under any configured secret", kombo.SignatureHeader))
		return
	}

	hook, err := kombo.ParseWebhook(body)
	if err != nil {
		// An order that can be told by its ids is refused (422) and
		// listed as stuck; a webhook that cannot is a bad request.
		var bad *kombo.OrderError
		if errors.As(err, &bad) {
			s.logger.Info("order refused: invalid content", "event_id", bad.EventID, "order_id", bad.OrderID,
				"integration_id", bad.IntegrationID, "field", bad.Err.Field)
			s.refuseOrder(w, r, metrics.RefusedOrderInvalid, bad.OrderID, bad.IntegrationID, orders.RefusalReason(bad))
			return
		}
		s.refuseWebhook(w, r, metrics.RefusedInvalid, orders.Errorf(orders.EINVALID, "invalid webhook: %v", err))
		return
	}
	log := s.logger.With("event_id", hook.ID, "type", hook.Type)

	in := &store.Intake{Webhook: hook, Body: body}
	var token string
	if o := hook.Order; o != nil {
		log = log.With("order_id", o.ID, "integration_id", o.IntegrationID, "package_id", o.PackageID)
		if !s.cfg.Catalogue.Accepts(o.PackageID) {
			log.Info("order rejected: package not in catalogue")
			s.refuseOrder(w, r, metrics.RefusedPackage, o.ID, o.IntegrationID, orders.PackageRefusal(o.PackageID))
			return
		}
		if s.tenantRefuses(r.Context(), o) {
			log.Info("order rejected: package not offered to the tenant")
			s.refuseOrder(w, r, metrics.RefusedPackage, o.ID, o.IntegrationID, orders.TenantRefusal(o.PackageID))
			return
		}
		if hook.Type == kombo.EventInlineOrderReceived {
			token = newToken()
			in.TokenHash = HashToken(token)
		}
	}

	res, err := intake(r.Context(), in)
	if err != nil {
		if orders.ErrorCode(err) == orders.EUNPROCESSABLE && hook.Order != nil {
			log.Info("order rejected", "reason", orders.ErrorMessage(err))
			s.refuseOrder(w, r, metrics.RefusedIntegration, hook.Order.ID, hook.Order.IntegrationID, orders.ErrorMessage(err))
			return
		}
		// Never a 422 here: Kombo would mark the order rejected. A 503 keeps
		// it open for a redelivery or the reconciler.
		log.Error("webhook not stored", "err", err)
		s.refuseWebhook(w, r, metrics.RefusedUnavailable, orders.Errorf(orders.EUNAVAILABLE, "the webhook could not be stored; try again later"))
		return
	}
	log.Info("webhook stored", "duplicate", res.Duplicate)

	if token != "" {
		writeJSON(w, http.StatusOK, map[string]string{"assessment_url": s.assessmentURL(res.Order, token)})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "duplicate": res.Duplicate})
}

// refuseWebhook answers a webhook with err, counted by reason.
func (s *Server) refuseWebhook(w http.ResponseWriter, r *http.Request, reason string, err error) {
	s.cfg.Metrics.WebhookRefused(reason)
	s.error(w, r, err)
}

// refuseOrder refuses an order with 422 and message, once it is on the
// stuck list with message as its reason: Kombo may take the 422 as a
// rejection, or keep the order OPEN, where the stuck list is where a
// person sees it. If the list cannot be written, the answer is 503, so
// that Kombo keeps the order for a redelivery or the reconciler.
func (s *Server) refuseOrder(w http.ResponseWriter, r *http.Request, reason, orderID, integrationID, message string) {
	if err := s.store.RecordStuck(r.Context(), orderID, integrationID, message); err != nil {
		s.logger.Error("refused order not recorded", "order_id", orderID, "err", err)
		s.refuseWebhook(w, r, metrics.RefusedUnavailable, orders.Errorf(orders.EUNAVAILABLE, "the webhook could not be stored; try again later"))
		return
	}
	s.cfg.Metrics.WebhookRefused(reason)
	s.reject(w, message)
}

// reject answers 422 in Kombo's rejection shape. Kombo shows message to the
// recruiter in the ATS. The body carries message both flat and in Kombo's
// error envelope, since Kombo's documentation does not settle which it reads.
func (s *Server) reject(w http.ResponseWriter, message string) {
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{
		"status":  "error",
		"message": message,
		"error":   map[string]string{"message": message},
	})
}

// assessmentURL fills in the candidate link template.
func (s *Server) assessmentURL(o *orders.Order, token string) string {
	return strings.NewReplacer(
		"{token}", url.PathEscape(token),
		"{order_id}", url.PathEscape(o.ID),
		"{package_id}", url.PathEscape(o.PackageID),
	).Replace(s.cfg.AssessmentURL)
}

// newToken returns an unguessable candidate link token: 256 random bits.
func newToken() string { return orders.NewToken() }

// HashToken returns what the store keeps of a link token.
func HashToken(token string) string { return orders.HashToken(token) }

// tenantRefuses reports whether the order's package is offered to some
// tenants only and not to the order's: the tenant of its integration. An
// order of an integration not known yet is taken: its tenant cannot be
// told, and its packages were never pushed.
func (s *Server) tenantRefuses(ctx context.Context, o *kombo.Order) bool {
	if len(s.cfg.Catalogue.Tenants(o.PackageID)) == 0 {
		return false
	}
	in, err := s.store.FindIntegrationByID(ctx, o.IntegrationID)
	if err != nil {
		return false // unknown (or unreadable): the store's intake decides
	}
	return !s.cfg.Catalogue.OfferedTo(o.PackageID, in.OriginID)
}
