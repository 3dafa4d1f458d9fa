package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/assessgate/assessgate/internal/assessgate"
)

const usage = `assessgate runs between Kombo and an assessment vendor's platform.

Usage:
  assessgate serve [flags]     take Kombo's webhooks and serve the vendor API
  assessgate migrate [flags]   bring the database schema up to date (--check: only look)
  assessgate erase --email A   erase the personal data of the candidate with address A
  assessgate demo [--serve]    run one order around the whole loop, with nothing to set up
  assessgate simulate EVENT    send a signed Kombo webhook to an assessgate (order, inline-order, integration-…)
  assessgate mail preview      render the candidate e-mails for a sample order (--lang de --tenant acme)
  assessgate version           print the version, the commit it was built from and the Go version
  assessgate help              show this help

Run "assessgate COMMAND -h" for a command's flags. Every flag can also be set
through the environment variable named in its help.
`

// run is the whole program; main only adds signals and the process's
// environment, so tests run it as it runs in production.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "serve":
		err = runServe(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		err = runMigrate(ctx, rest, getenv, stdout, stderr)
	case "erase":
		err = runErase(ctx, rest, getenv, stdout, stderr)
	case "demo":
		err = runDemo(ctx, rest, getenv, stdout, stderr)
	case "simulate":
		err = runSimulate(ctx, rest, getenv, stdout, stderr)
	case "mail":
		err = runMail(ctx, rest, getenv, stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, assessgate.ReadBuildInfo())
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}
