"""The Piccolo app that owns LedgerBridge's tables and migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from ledgerbridge.tables import TABLES

APP_CONFIG = AppConfig(
    app_name="ledgerbridge",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=TABLES,
    migration_dependencies=[],
    commands=[],
)
