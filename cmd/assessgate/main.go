// Command assessgate runs between Kombo and an assessment vendor's platform:
// it takes Kombo's webhooks, keeps every order durably, invites candidates and
// writes results back to Kombo. Run "assessgate help" for the subcommands.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "assessgate:", err)
		os.Exit(1)
	}
}
