"""The composition root: settings → database, pipelines and membership → the release service.

`serve` and every CLI command get their parts here. Each part is built on first use, and the
heavy libraries load with the part that needs them: YAML and pydantic with the pipelines file,
Alembic with a migration, Slack and APScheduler with `serve`'s runtime.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from release_bot.bot.runtime.pipelines_config import NO_PIPELINES, PipelinesConfig
from release_bot.bot.runtime.settings import Settings
from release_bot.bot.runtime.static_membership import StaticMembership
from release_bot.core.errors import DomainError
from release_bot.core.policy import Membership
from release_bot.core.service import ReleaseService
from release_bot.storage.database import Database, open_database

if TYPE_CHECKING:
    from release_bot.bot.runtime.serve import Runtime


NO_PROMETHEUS = ("phases of this file have checks, but PROMETHEUS_URL is not set: set it to "
                 "your Prometheus server (http://host:9090) — serve refuses to start without it")


class DatabaseUnusable(Exception):
    """The database is reachable but cannot be used as it is."""


def build_service(
    database: Database, config: PipelinesConfig, membership: Membership | None = None
) -> ReleaseService:
    """The release service; group membership from the pipelines file's `members:` unless a
    front brings its own (Slack's user groups, in `serve`)."""
    if membership is None:
        membership = StaticMembership(config.members)
    return ReleaseService(database.uow, config.pipelines, membership, reads=database.reads)


@dataclass
class Root:
    """One process's settings and the parts built from them, each on first use."""

    settings: Settings
    _database: Database | None = field(default=None, init=False)

    @cached_property
    def pipelines(self) -> PipelinesConfig:
        """The validated pipelines file."""
        from release_bot.bot.runtime.pipelines_file import load_pipelines

        return load_pipelines(self.settings.release_bot_config)

    def database(self, *, migrate: bool = True) -> Database:
        """The database; an empty or old SQLite schema is brought up to date on the way, an old
        Postgres schema is refused (replicas upgrade it with `release-bot db upgrade`)."""
        if self._database is None:
            self._database = open_database(self.settings.database_url)
            if migrate and not self._database.is_current():
                if self._database.engine.dialect.name != "sqlite":
                    raise DatabaseUnusable(
                        "The database schema is missing or old: run 'release-bot db upgrade' first."
                    )
                self._database.upgrade()
        return self._database

    def service(self, *, with_pipelines: bool = False) -> ReleaseService:
        """The release service; the pipelines file is read only when the caller needs it, and
        before the database, so that a broken file changes nothing."""
        config = self.pipelines if with_pipelines else NO_PIPELINES
        return build_service(self.database(), config)

    def runtime(self) -> Runtime:
        """Everything `serve` runs, on this database and pipelines file."""
        from release_bot.bot.runtime.serve import Runtime
        from release_bot.bot.webhooks.secrets import check_secrets

        pipelines = self.pipelines  # before the database, so that a broken file changes nothing
        check_secrets(pipelines.pipelines, os.environ)
        if pipelines.uses_checks and self.settings.prometheus_url is None:
            raise DomainError(NO_PROMETHEUS[0].upper() + NO_PROMETHEUS[1:] + ".")
        return Runtime(self.settings, self.database(), pipelines)

    def close(self) -> None:
        """Close the database's pooled connections, if it was opened."""
        if self._database is not None:
            self._database.dispose()
