// Command server runs Sally Integrations: the GraphQL API, the sync scheduler and the
// alert worker. With no configuration it runs on the embedded default (SQLite in
// ./data, the built-in vendor sandbox and a demo tenant).
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
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
