"""The checks every project gets."""

from __future__ import annotations

from pathlib import Path

from ncm_core import sumfile
from ncm_core.history import BASELINE, FAILED, UNFINISHED
from ncm_core.validators.interface import Problem, Validator


class Checksums(Validator):
    """An applied migration whose file changed no longer describes the database."""

    PLUGIN_NAME = "checksums"

    def check(self, migrations, history):
        for m in migrations:
            record = history.get(m.version)
            if m.repeatable:
                continue  # a changed repeatable migration is applied again, not refused
            if record and record.status not in (FAILED, *UNFINISHED) and record.checksum and record.checksum != m.checksum:
                yield Problem.error(
                    self, m.version,
                    f"{m.path}: changed since it was applied (checksum {record.checksum[:12]} is now "
                    f"{m.checksum[:12]}); revert the edit, or run `ncm repair` to accept it",
                )


class MissingFiles(Validator):
    """A version in the history with no file: a deleted migration or the wrong directory."""

    PLUGIN_NAME = "missing-files"

    def check(self, migrations, history):
        known = {m.version for m in migrations}
        for version, record in history.items():
            if version not in known and record.status not in (FAILED, BASELINE):
                yield Problem.error(
                    self, version,
                    f"{version}: applied to the database but its file is missing from the migration directory",
                )


class FailedRecords(Validator):
    """A failed migration must be dealt with before anything else is applied."""

    PLUGIN_NAME = "failed-records"

    def check(self, migrations, history):
        for version, record in history.items():
            if record.status == FAILED:
                yield Problem.error(
                    self, version,
                    f"{version}: failed at {record.applied_at:%Y-%m-%d %H:%M:%S} ({record.error}); fix it, then "
                    f"run `ncm repair` or `ncm rollback --version {version}`",
                )


class InterruptedRecords(Validator):
    """A step whose runner died part way is partially applied: ``validate`` says so. It is a
    warning, since ``ncm run`` resumes the steps it can and refuses the others itself."""

    PLUGIN_NAME = "interrupted-records"

    def check(self, migrations, history):
        for version, record in history.items():
            if record.status in UNFINISHED:
                done = f" after {record.statements_done} statement(s)" if record.statements_done is not None else ""
                yield Problem.warning(
                    self, version,
                    f"{version}: interrupted{done} ({record.runner or 'unknown runner'}); see `ncm status` for how to "
                    "recover (a run in progress also shows here until it finishes)",
                )


class Reversible(Validator):
    """A migration without a down step cannot be rolled back, automatically or by hand."""

    PLUGIN_NAME = "reversible"

    def check(self, migrations, history):
        for m in migrations:
            if not m.reversible:
                yield Problem.warning(self, m.version, f"{m.path}: has no downgrade, so it cannot be rolled back")


class SumFileIntegrity(Validator):
    """A migration file added, changed or removed without ``ncm.sum`` being updated: an edit
    after review, or a merge that went past the sum's conflict. A warning while developing
    (the file is being written), an error in testing, staging and production, where it must
    not be deployed unreviewed. A project without ``ncm.sum`` only gets a hint."""

    PLUGIN_NAME = "sum-file"
    WARN_ON_RUN = True

    def check(self, migrations, history):
        directory = Path(self.config.migration_directory)
        path = sumfile.path_of(directory)
        if not path.is_file():
            yield Problem.hint(self, None, f"{path}: none yet; `ncm hash` writes it, so that a migration file "
                                           "edited or merged without review is noticed")
            return
        report = Problem.warning if self.config.environment == "development" else Problem.error
        try:
            found = [f"{directory / line}" for line in sumfile.drift(directory)]
        except sumfile.SumFileError as exc:
            found = [str(exc)]
        for line in found:
            yield report(self, None, f"{line}; review it, then run `ncm hash` to update {path}")
