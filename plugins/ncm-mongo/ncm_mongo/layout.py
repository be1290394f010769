"""mongodump's directory layout, which ncm's MongoDB backups follow file for file.

A dump of database ``app`` holds, per collection, ``app/<name>.metadata.json`` (options,
indexes, uuid, name and type, as canonical Extended JSON) and ``app/<name>.bson`` (the
documents, concatenated BSON); a view has only its metadata, and a time-series collection
keeps its buckets in ``app/system.buckets.<name>.bson``. Names are escaped as mongodump
escapes them (Go's ``url.PathEscape``). Unpacked (``tar xf``), a backup is a directory the
official ``mongorestore --dir`` reads.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, unquote

from bson import json_util
from bson.binary import Binary

FORMAT = "mongodump directory layout in a tar stream"
METADATA_SUFFIX = ".metadata.json"
BSON_SUFFIX = ".bson"
BUCKETS_PREFIX = "system.buckets."

# Go's url.PathEscape leaves these unescaped besides letters, digits and "-_.~".
_PATH_SAFE = "$&+:=@"


def member_path(database: str, name: str, suffix: str) -> str:
    """The member holding collection ``name``'s metadata or documents (``suffix``), escaped."""
    return f"{database}/{quote(name, safe=_PATH_SAFE)}{suffix}"


def unescape(name: str) -> str:
    return unquote(name)


def data_source(info: dict[str, Any]) -> str | None:
    """The collection whose documents hold ``info``'s data: itself, its buckets (time
    series), or None (a view has no data of its own)."""
    kind = info.get("type", "collection")
    if kind == "view":
        return None
    return BUCKETS_PREFIX + info["name"] if kind == "timeseries" else info["name"]


def metadata_json(info: dict[str, Any], indexes: list[dict[str, Any]]) -> bytes:
    """``info`` (from listCollections) and its indexes as mongodump writes them: key order
    options, indexes, uuid, collectionName, type; ``options`` left out when empty."""
    document: dict[str, Any] = {}
    if info.get("options"):
        document["options"] = info["options"]
    document["indexes"] = indexes
    uuid = info.get("info", {}).get("uuid")
    if isinstance(uuid, Binary):
        document["uuid"] = uuid.hex()
    document["collectionName"] = info["name"]
    document["type"] = info.get("type", "collection")
    return json_util.dumps(document, json_options=json_util.CANONICAL_JSON_OPTIONS,
                           separators=(",", ":")).encode()


def parse_metadata(text: bytes) -> dict[str, Any]:
    """A ``.metadata.json`` back to BSON values (Int64 stays Int64, a double stays a double)."""
    document = json_util.loads(text, json_options=json_util.CANONICAL_JSON_OPTIONS)
    if not isinstance(document, dict) or not isinstance(document.get("collectionName"), str):
        raise json.JSONDecodeError("not a mongodump metadata document", text.decode(errors="replace"), 0)
    return document
