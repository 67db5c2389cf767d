"""The newest revision read off the migration files' names is the one Alembic finds, and the files keep the
numbering that reading relies on; a process at head never imports Alembic."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.script import ScriptDirectory

from orderline.storage.database import DatabaseUrl
from orderline.storage.migrate import alembic_config, upgrade
from orderline.storage.revision import VERSIONS, head_revision


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(DatabaseUrl("sqlite", "unused")))


def test_the_newest_revision_is_the_one_alembic_finds() -> None:
    assert head_revision() == _scripts().get_current_head()


def test_each_migration_is_numbered_like_its_file_and_revises_the_one_numbered_before_it() -> None:
    revisions = sorted(_scripts().walk_revisions(), key=lambda script: script.revision)

    previous = None
    for script in revisions:  # numbers rise along the chain (0012 was never shipped)
        assert Path(script.path).name.startswith(f"{script.revision}_")
        assert script.down_revision == previous
        previous = script.revision
    assert len(revisions) == len(list(VERSIONS.glob("[0-9][0-9][0-9][0-9]_*.py")))


def test_starting_on_an_sqlite_database_at_head_loads_neither_alembic_nor_sqlalchemy(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    upgrade(DatabaseUrl.parse(url))
    probe = (
        "import sys; from orderline.storage.database import DatabaseUrl; from orderline.storage.migrate import upgrade;"
        f" upgrade(DatabaseUrl.parse({url!r}));"
        " print(sorted({'alembic', 'sqlalchemy'} & set(sys.modules)))"
    )

    loaded = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout

    assert loaded.strip() == "[]"
