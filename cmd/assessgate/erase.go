package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/assessgate/assessgate/internal/assessgate"
	"github.com/assessgate/assessgate/internal/clock"
	"github.com/assessgate/assessgate/internal/jobs"
	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
)

// runErase is "assessgate erase --email ADDRESS": it erases the personal
// data of every order of the candidate with that address, as
// DELETE /api/v1/candidates does, records the erasure in the audit log (as
// done by "cli"), and says which orders it erased. It works beside running
// replicas: their mail jobs find the orders erased and send nothing, and
// they send the vendor's platform order.erased when
// ASSESSGATE_VENDOR_WEBHOOK_URL is set here too.
//
// It needs the database and the encryption keys serve uses: without them it
// could not find an address stored as a keyed hash, so it refuses to run
// when the database holds personal data sealed or hashed under keys it was
// not given.
func runErase(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return erase(ctx, args, getenv, stdout, stderr, nil)
}

// erase is runErase on clk (nil: the wall clock), which the erasure is
// dated by.
func erase(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, clk clock.Clock) error {
	f := newEnvFlags("erase", getenv, stderr)
	email := f.fs.String("email", "", "the candidate's e-mail address (required)")
	dbURL := f.String("database-url", "ASSESSGATE_DATABASE_URL", "sqlite:assessgate.db", "database: sqlite:PATH or postgres://…")
	keys := defineKeyFlag(f)
	vendorURL := f.String("vendor-webhook-url", "ASSESSGATE_VENDOR_WEBHOOK_URL", "", "URL of the vendor's platform, told of the erasure (order.erased)")
	vendorSecret := f.String("vendor-webhook-secret", "ASSESSGATE_VENDOR_WEBHOOK_SECRET", "", "secret that signs vendor webhooks")
	logLevel := f.String("log-level", "ASSESSGATE_LOG_LEVEL", "warn", "log level: debug, info, warn or error")
	logFormat := f.String("log-format", "ASSESSGATE_LOG_FORMAT", "text", "log format: text or json")
	if err := f.Parse(args); err != nil {
		return err
	}
	if strings.TrimSpace(*email) == "" {
		return errors.New("--email is required: the address of the candidate to erase")
	}
	keyring, err := keys()
	if err != nil {
		return err
	}
	logger, err := newLogger(stderr, *logLevel, *logFormat)
	if err != nil {
		return err
	}

	vendor, err := jobs.NewVendor(logger, clk, *vendorURL, *vendorSecret)
	if err != nil {
		return err
	}
	db, err := assessgate.OpenDatabase(ctx, *dbURL, false, logger)
	if err != nil {
		return err
	}
	defer db.Close()
	// The erasure's vendor webhooks (order.erased) are jobs that the
	// running replicas work.
	queue, err := jobs.NewQueue(db, logger, clk)
	if err != nil {
		return err
	}
	st := store.New(db, store.Config{
		Logger: logger, Clock: clk, Keyring: keyring,
		Events: jobs.NewEvents(jobs.EventsConfig{Queue: queue, Vendor: vendor, Clock: clk}),
	})
	if err := st.CheckKeys(ctx); err != nil {
		return err
	}

	e, err := st.EraseCandidate(ctx, *email, orders.ActorCLI)
	if err != nil {
		return fmt.Errorf("erase: %w", err)
	}
	if len(e.OrderIDs) == 0 {
		fmt.Fprintf(stdout, "nothing held about that candidate; erasure %d recorded\n", e.ID)
		return nil
	}
	fmt.Fprintf(stdout, "erased the personal data of %d orders (%s) and %d webhook bodies; erasure %d recorded\n",
		len(e.OrderIDs), strings.Join(e.OrderIDs, ", "), e.WebhookEvents, e.ID)
	return nil
}
