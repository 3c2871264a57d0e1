package alert

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/sallyhq/sally/ent"
	entalert "github.com/sallyhq/sally/ent/alert"
	"github.com/sallyhq/sally/ent/integration"
	"github.com/sallyhq/sally/ent/schema"
	"github.com/sallyhq/sally/ent/synclog"
	"github.com/sallyhq/sally/event"
)

// KindCredentials is the alert of an integration paused because the vendor kept
// rejecting its credentials (state NEEDS_CREDENTIALS).
const KindCredentials = "credentials"

// DefaultCredentialsFailuresBeforePause is Options.CredentialsFailuresBeforePause's
// default (CREDENTIALS_FAILURES_BEFORE_PAUSE).
const DefaultCredentialsFailuresBeforePause = 3

// classAuth is the SyncLog.errorClass of a sync whose credentials the vendor
// rejected (HTTP 401 or 403).
const classAuth = "auth"

// credentialsRule keeps the count of consecutive syncs whose credentials the vendor
// rejected, and pauses the integration (NEEDS_CREDENTIALS) when it reaches the limit:
// in the same transaction it stores the one credentials alert, which supersedes an
// open failure or stale alert of the same incident. A success resets the count.
// Counting is a conditional update on the row, made only while the credentials are
// still those the sync used, so a key changed during the sync is not blamed, and
// replicas deciding at once pause (and alert) once.
func (m *Manager) credentialsRule(ctx context.Context, in *ent.Integration, lg *ent.SyncLog) error {
	switch {
	case lg.Status == synclog.StatusSUCCESS:
		_, err := m.db.Integration.Update().
			Where(integration.ID(in.ID), integration.CredentialFailuresGT(0), integration.Credentials(in.Credentials)).
			SetCredentialFailures(0).Save(ctx)
		return err
	case lg.Status != synclog.StatusFAILED || deref(lg.ErrorClass) != classAuth:
		return nil // says nothing about the credentials
	}
	limit := m.opts.CredentialsFailuresBeforePause
	if limit <= 0 {
		limit = DefaultCredentialsFailuresBeforePause
	}
	paused := false
	err := m.decide(ctx, func(tx *ent.Tx, d *decision) error {
		paused = false
		c := tx.Client()
		n, err := c.Integration.Update().
			Where(integration.ID(in.ID), integration.Credentials(in.Credentials), integration.NeedsCredentials(false)).
			AddCredentialFailures(1).Save(ctx)
		if err != nil || n == 0 {
			return err // new credentials meanwhile, already paused, or deleted
		}
		cur, err := c.Integration.Get(ctx, in.ID)
		if err != nil || cur.CredentialFailures < limit {
			return err
		}
		now := m.now()
		refusal := strings.TrimSpace(deref(lg.Error))
		if refusal == "" {
			refusal = "the vendor rejected the credentials"
		}
		cur, err = c.Integration.UpdateOne(cur).
			SetNeedsCredentials(true).SetCredentialsRejection(refusal).ClearNextSyncAt().
			SetUpdatedAt(now).Save(ctx)
		if err != nil {
			return err
		}
		paused = true
		open, err := openAlerts(ctx, c, in.ID)
		if err != nil {
			return err
		}
		for _, a := range open { // the same incident, now better told
			if _, err := resolve(ctx, c, a.ID, now); err != nil {
				return err
			}
		}
		vendor := m.opts.VendorName(string(cur.Vendor))
		det := schema.AlertDetails{
			IntegrationName: cur.DisplayName, Vendor: string(cur.Vendor), IntegrationType: string(cur.IntegrationType),
			LastError: refusal, ErrorClass: classAuth, CircuitState: string(cur.CircuitState),
			IntervalSeconds: cur.SyncIntervalSeconds, OccurredAt: now, CredentialFailures: cur.CredentialFailures,
		}
		title := fmt.Sprintf("\"%s\" (%s) needs new credentials", cur.DisplayName, vendor)
		msg := fmt.Sprintf("%s rejected the integration's credentials on %d syncs in a row, so Sally stopped syncing it "+
			"and makes no more calls to %s for it. Enter a new API key to resume: it syncs at once.", vendor, cur.CredentialFailures, vendor)
		if err := m.store(ctx, c, d, cur, raised{kind: KindCredentials, severity: entalert.SeverityCRITICAL, title: title, message: msg, details: det}); err != nil {
			return err
		}
		changed := "needs new credentials: " + refusal
		d.events = append(d.events, event.Event{
			Type: event.IntegrationChanged, At: now, TenantID: cur.TenantID.String(), IntegrationID: cur.ID.String(),
			IntegrationName: cur.DisplayName, Vendor: string(cur.Vendor), CircuitState: string(cur.CircuitState),
			Message: &changed,
		})
		return nil
	})
	if err == nil && paused {
		m.log.Warn("integration paused: the vendor keeps rejecting its credentials",
			"integration", in.ID, "vendor", in.Vendor, "failures", limit)
	}
	return err
}

// link is the integration's page on the web console, "" without a public URL.
func (m *Manager) link(id uuid.UUID) string {
	if m.opts.PublicURL == "" {
		return ""
	}
	return strings.TrimRight(m.opts.PublicURL, "/") + "/#/integrations/" + id.String()
}
