"""Piccolo's entry point: the engine from settings and the one app holding our tables."""

from piccolo.conf.apps import AppRegistry

from ledgerbridge.db import make_engine
from ledgerbridge.settings import get_settings

DB = make_engine(get_settings().database_url)

APP_REGISTRY = AppRegistry(apps=["ledgerbridge.piccolo_app"])
