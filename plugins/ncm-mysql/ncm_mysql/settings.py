"""The ``[mysql]`` section: the defaults of the tables migrations create, and how ALTERs lock."""

from __future__ import annotations

import re

from pydantic import field_validator

from ncm_core.settings import PluginSettings

_NAME = re.compile(r"^[A-Za-z0-9_]+$")


class MySQLSettings(PluginSettings):
    """``charset`` and ``engine`` go into every connection's init command, so they must be
    plain names: anything else could smuggle SQL into it."""

    PLUGIN_NAME = "mysql"
    DEPRECATED = {"mysql_charset": "charset", "mysql_engine": "engine"}

    charset: str = "utf8mb4"
    engine: str = "InnoDB"
    online_alter: bool = True
    """Each ALTER TABLE asks for ALGORITHM=INSTANT, then INPLACE with LOCK=NONE, then the
    server's default, and the log says which it used (ncm_mysql.online_alter)."""

    @field_validator("charset", "engine")
    @classmethod
    def _plain_name(cls, name: str) -> str:
        if not _NAME.match(name):
            raise ValueError("is not a character set or engine name (letters, digits and _ only)")
        return name
