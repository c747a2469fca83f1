"""The engine-sensitive API tests again on PostgreSQL: subquery filters, exact NUMERIC money,
unique-index upserts, grouped counts, the throttle's shared table, the run rollback, and the audit
trail (written in the change's transaction, append-only by trigger)."""

# Tests are imported to run here a second time, against the PostgreSQL server the suite starts.
# ruff: noqa: F401

from __future__ import annotations

import pytest

from tests.api.test_audit import (
    test_a_failed_action_leaves_no_entry_and_old_entries_are_pruned,
    test_actions_on_the_books_and_connections_are_audited_with_who_and_from_where,
    test_the_database_refuses_to_rewrite_an_entry,
)
from tests.api.test_customers import test_upsert_by_external_ref_is_idempotent
from tests.api.test_invoices import (
    customer,
    test_a_failure_after_recording_leaves_no_run_and_no_change,
    test_a_long_json_number_is_not_passed_through_float,
    test_export_records_a_queued_run,
    test_sync_filter_agrees_with_the_badge,
    test_totals_with_per_line_tax,
    test_upsert_by_external_ref,
)
from tests.api.test_issues import test_grouped_by_code
from tests.api.test_time_entries import test_bill_time_entries_into_a_draft
from tests.conftest import _create_postgres_database, open_database
from tests.test_auth import test_five_bad_passwords_pause_sign_in, test_sign_in_and_out

pytestmark = pytest.mark.postgres


@pytest.fixture
async def database(postgres_dsn: str, monkeypatch: pytest.MonkeyPatch):
    """Overrides the suite's SQLite `database` for the tests of this module."""
    url = await _create_postgres_database(postgres_dsn)
    await open_database(url, monkeypatch)
    yield url
    from ledgerbridge import db

    await db.close_pool()
