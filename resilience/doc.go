/*
Package resilience wraps every vendor call in the failsafe-go policies one
integration needs, and says in one place what a failure means.

# One call

[Policy.Do] runs one vendor call as

	retry( [open breaker? refuse] → bulkhead slot → breaker permit → timeout(call) → record )

where:

  - retry (failsafe retrypolicy, built per Do because the total budget and the
    computed wait belong to one execution): Config.MaxAttempts tries, the first
    included. Only classes whose [Class.Retryable] is true are retried: network,
    timeout, 429 and 5xx. A canceled caller context, 4xx and bad bodies are not.
    The wait comes from our own DelayFunc ([Config.Delay]): exponential backoff from
    BaseDelay doubling to MaxDelay plus POSITIVE jitter, or the vendor's Retry-After
    (capped at MaxRetryAfter) plus positive jitter. No jitter is configured on the
    failsafe policy, because failsafe applies it after the DelayFunc and could
    shorten a vendor's Retry-After. Retrying stops early when the next wait would
    pass Config.MaxTotal or the caller's deadline, or when the breaker is open
    (the policy also aborts on circuitbreaker.ErrOpen).
  - tries are counted in HTTP requests: net/http's Transport re-sends a GET by
    itself, inside one try, when a reused keep-alive connection fails before the
    answer. Each try runs under a vendors.RequestCounter (see
    vendors.WithRequestCounter): a try that sent n requests counts as n tries (one
    that sent none, a failed dial, as one), the Transport may not re-send past
    what is left of MaxAttempts, and the try with one request left sends it on a
    new connection, where the Transport never re-sends (with MaxAttempts 1, every
    call). So a call sends at most MaxAttempts requests, and Do returns how many it
    sent (SyncLog.attempts).
  - bulkhead: a [Bulkhead] shared by every integration of one vendor bounds the calls
    in flight. It is held for one try only, never during a retry wait. A call that
    finds it full after Config.MaxWait fails with [ClassBusy]: not retried (the wait
    was the retry) and not counted by the breaker (it says nothing about the vendor).
  - breaker (failsafe circuitbreaker, one per integration): opens after
    Config.FailureThreshold consecutive vendor-health failures ([Class.VendorHealth]:
    network, timeout, 429, 5xx), refuses calls without touching the vendor while
    open, lets one probe through on the first call after Config.OpenDelay
    (half-open; failsafe has no timer) and closes on one success.
  - timeout (failsafe timeout): Config.AttemptTimeout per try. It is cooperative:
    the call gets the attempt's context and must return when it is done.

# Hooks belong to the call

One Policy serves everything that calls an integration's vendor: its syncs and the
live lookups (fuel stations, weather, a driver's HOS) share one breaker and one
bulkhead. What a retry or a try means belongs to the call that made it, so
[Policy.Do] takes the observers per call ([Hooks]): OnRetry before each retry wait,
OnTry after each try with its [Try] (attempt number, start, duration, HTTP status,
error class and message, the wait before the next try), the record SyncLog.tries
is made of. A lookup that retries while a sync of the same integration runs is
therefore never reported as that sync's retry.

# Non-health errors and the breaker

failsafe's breaker executor records everything that is not a failure as a success,
so a 401 would reset the count of consecutive 503s and close a half-open breaker.
We drive the breaker through its permit API instead (TryAcquirePermit,
RecordSuccess, RecordFailure) and decide ourselves:

  - success: recorded as a success;
  - vendor-health failure: recorded as a failure;
  - non-health error (401, 403, 404, 400, bad response) while CLOSED: not recorded
    at all, so it neither counts toward opening nor breaks a run of health
    failures: four 503s, a 401 and a 503 open the breaker;
  - non-health error while HALF_OPEN: recorded as a success, which closes the
    breaker. The vendor answered, so it is up; keeping the breaker open would hide
    the real problem (a revoked key) behind "circuit open";
  - the caller's context ended: not recorded while CLOSED (it says nothing about the
    vendor); while HALF_OPEN the probe proved nothing, so it counts as a failure and
    the breaker re-opens (a permit must be released, and failing safe waits).

[Policy.TestOnce] ("test connection") bypasses the breaker and records nothing: a
dispatcher who just fixed a key must be able to check it while the breaker is open.

# Persisted breaker state

Options.InitialState and Options.OpenedAt restore what OnStateChange and
[Policy.OpenedAt] reported before a restart: an OPEN breaker stays open until
OpenDelay after OpenedAt has passed, then goes half-open on the next call. Restoring
does not call OnStateChange. [Policy.Follow] does the same for a running breaker
when another replica has opened the integration's since this one last changed, so
that one replica's open breaker pauses the vendor calls of all of them.

# Errors

Errors are classified once, by [Classify]; [Describe] turns any error into a
sentence a dispatcher understands that starts with what happened ("unauthorized:",
"circuit open:", "rate limited:" …) and never contains a secret: it only uses the
vendor's name, the HTTP status, a Retry-After and vendors.Error.Message, never the
raw text of transport errors (which can carry URLs with keys).
*/
package resilience
