package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/ent/fleetdriver"
	"github.com/sallyhq/sally/ent/integration"
	"github.com/sallyhq/sally/ent/privacy"
	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/store"
)

// hosColumns added by the HOS fidelity change (contract v2); an older database has
// none of them.
var hosColumns = []string{
	"hos_note", "cycle_violation_hours", "shift_driving_violation_hours",
	"override_by", "override_reason", "override_expires_at",
}

// clockColumns are the cached and overridden clocks: nullable, since null means the
// vendor did not report the clock. A database made when they were NOT NULL (or by a
// schema that declared them so) must come out of the migration nullable.
var clockColumns = []string{
	"hours_driven", "drive_remaining_hours", "shift_remaining_hours",
	"cycle_remaining_hours", "time_until_break_hours",
}

// TestMigrateOlderDriversTable turns a migrated database back into an older one (no
// audit, note or violation columns; NOT NULL clock columns, holding a driver), then
// migrates it as a server start does: the driver keeps its values, the new columns
// are there and null, and a clock can be stored as null.
func TestMigrateOlderDriversTable(t *testing.T) {
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		ctx := privacy.DecisionContext(context.Background(), privacy.Allow)
		tn, err := s.Client.Tenant.Create().SetName("Old Fleet").Save(ctx)
		require.NoError(t, err)
		in, err := s.Client.Integration.Create().SetTenantID(tn.ID).
			SetIntegrationType(integration.IntegrationTypeHOS_ELD).SetVendor(integration.VendorSAMSARA_ELD).
			SetDisplayName("Samsara").SetCredentials("sealed").SetCredentialsHint("••••").Save(ctx)
		require.NoError(t, err)
		d, err := s.Client.FleetDriver.Create().SetTenantID(tn.ID).SetIntegrationID(in.ID).SetDriverID("52001").
			SetName("Maria Lopez").SetDutyStatus("DRIVING").SetHoursDriven(5).SetDriveRemainingHours(6).
			SetShiftRemainingHours(7).SetCycleRemainingHours(40).SetTimeUntilBreakHours(3).Save(ctx)
		require.NoError(t, err)

		makeOlder(t, s)
		for _, c := range hosColumns {
			require.False(t, hasColumn(t, s, c), "column %s is gone before the migration", c)
		}
		for _, c := range clockColumns {
			require.False(t, nullable(t, s, c), "column %s is NOT NULL before the migration", c)
		}

		require.NoError(t, s.Migrate(ctx))

		for _, c := range hosColumns {
			require.True(t, hasColumn(t, s, c), "column %s after the migration", c)
		}
		for _, c := range clockColumns {
			require.True(t, nullable(t, s, c), "column %s is nullable after the migration", c)
		}
		got, err := s.Client.FleetDriver.Get(ctx, d.ID)
		require.NoError(t, err)
		require.Equal(t, "Maria Lopez", *got.Name)
		require.Equal(t, 6.0, *got.DriveRemainingHours)
		require.Nil(t, got.HosNote)
		require.Nil(t, got.CycleViolationHours)
		require.Nil(t, got.OverrideReason)
		require.Nil(t, got.OverrideExpiresAt)

		// A clock the vendor stopped reporting is stored as null, not 0.
		got, err = s.Client.FleetDriver.UpdateOne(got).ClearDriveRemainingHours().ClearHoursDriven().
			SetHosNote("no clocks reported").Save(ctx)
		require.NoError(t, err)
		require.Nil(t, got.DriveRemainingHours)
		n, err := s.Client.FleetDriver.Query().Where(fleetdriver.DriveRemainingHoursIsNil()).Count(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
	})
}

// makeOlder drops the new columns of drivers and makes its clock columns NOT NULL.
func makeOlder(t *testing.T, s *store.Store) {
	t.Helper()
	ctx := context.Background()
	if s.Dialect == "postgres" {
		var stmts []string
		for _, c := range hosColumns {
			stmts = append(stmts, "DROP COLUMN "+c)
		}
		for _, c := range clockColumns {
			stmts = append(stmts, "ALTER COLUMN "+c+" SET NOT NULL")
		}
		_, err := s.DB.ExecContext(ctx, "ALTER TABLE drivers "+strings.Join(stmts, ", "))
		require.NoError(t, err)
		return
	}
	// SQLite alters no column's nullability: rebuild the table from its own CREATE
	// statement, edited, as SQLite's documentation describes.
	conn, err := s.DB.Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	var create string
	require.NoError(t, conn.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'drivers'`).Scan(&create))
	for _, c := range hosColumns {
		re := regexp.MustCompile("(?i)\\s*`" + c + "`[^,]*,")
		require.True(t, re.MatchString(create), "column %s in %s", c, create)
		create = re.ReplaceAllString(create, "")
	}
	for _, c := range clockColumns {
		re := regexp.MustCompile("(?i)(`" + c + "` real) NULL")
		require.True(t, re.MatchString(create), "column %s in %s", c, create)
		create = re.ReplaceAllString(create, "$1 NOT NULL")
	}
	create = strings.Replace(create, "`drivers`", "`drivers_older`", 1)
	var cols []string
	rows, err := conn.QueryContext(ctx, `SELECT name FROM pragma_table_info('drivers')`)
	require.NoError(t, err)
	for rows.Next() {
		var c string
		require.NoError(t, rows.Scan(&c))
		if !contains(hosColumns, c) {
			cols = append(cols, "`"+c+"`")
		}
	}
	require.NoError(t, rows.Err())
	list := strings.Join(cols, ", ")
	for _, stmt := range []string{
		"PRAGMA foreign_keys = OFF",
		create,
		fmt.Sprintf("INSERT INTO drivers_older (%s) SELECT %s FROM drivers", list, list),
		"DROP TABLE drivers",
		"ALTER TABLE drivers_older RENAME TO drivers",
		"PRAGMA foreign_keys = ON",
	} {
		_, err := conn.ExecContext(ctx, stmt)
		require.NoError(t, err, stmt)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func hasColumn(t *testing.T, s *store.Store, col string) bool {
	t.Helper()
	return columnInfo(t, s, col) != nil
}

func nullable(t *testing.T, s *store.Store, col string) bool {
	t.Helper()
	n := columnInfo(t, s, col)
	require.NotNil(t, n, "column %s", col)
	return *n
}

// columnInfo returns whether drivers.col is nullable, or nil when there is no such
// column.
func columnInfo(t *testing.T, s *store.Store, col string) *bool {
	t.Helper()
	ctx := context.Background()
	var nullable bool
	var err error
	if s.Dialect == "postgres" {
		var yes string
		err = s.DB.QueryRowContext(ctx, `SELECT is_nullable FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = 'drivers' AND column_name = $1`, col).Scan(&yes)
		nullable = yes == "YES"
	} else {
		var notNull int
		err = s.DB.QueryRowContext(ctx, `SELECT "notnull" FROM pragma_table_info('drivers') WHERE name = ?`, col).Scan(&notNull)
		nullable = notNull == 0
	}
	if err == sql.ErrNoRows {
		return nil
	}
	require.NoError(t, err)
	return &nullable
}
