package resilience_test

import (
	"context"
	"fmt"
	"time"

	"github.com/sallyhq/sally/resilience"
	"github.com/sallyhq/sally/vendors"
)

func ExamplePolicy_Do() {
	policy := resilience.New(resilience.Options{
		Vendor: "samsara",
		Config: resilience.Config{BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond},
	})
	// Hooks belong to one call: whoever made it hears of its retries and tries.
	hooks := resilience.Hooks{
		OnRetry: func(attempt int, err error, wait time.Duration) {
			fmt.Printf("try %d failed: %s\n", attempt, resilience.Describe(err))
		},
	}

	tries := 0
	attempts, err := policy.Do(context.Background(), func(ctx context.Context) error {
		tries++
		if tries < 3 {
			return &vendors.Error{Kind: vendors.KindUnavailable, Vendor: "samsara", Status: 503}
		}
		return nil // call the vendor with ctx here
	}, hooks)
	fmt.Println("attempts:", attempts, "error:", err, "breaker:", policy.State())

	attempts, err = policy.Do(context.Background(), func(ctx context.Context) error {
		return &vendors.Error{Kind: vendors.KindUnauthorized, Vendor: "samsara", Status: 401}
	}, resilience.Hooks{})
	fmt.Println("attempts:", attempts, "class:", resilience.Classify(err))
	fmt.Println(resilience.Describe(err))

	// Output:
	// try 1 failed: vendor unavailable: samsara answered with a server error (HTTP 503)
	// try 2 failed: vendor unavailable: samsara answered with a server error (HTTP 503)
	// attempts: 3 error: <nil> breaker: CLOSED
	// attempts: 1 class: auth
	// unauthorized: the vendor rejected the API key
}
