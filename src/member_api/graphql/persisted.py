"""Persisted queries: Apollo's automatic persisted queries (a sha256 hash in
`extensions.persistedQuery`), with the clients' operations registered at start-up and,
in production, a mode that runs registered operations only.

The registered text of an operation is graphql-core's printing of it (`print_ast`), the
same for every client build; `member-api persisted-queries` prints the manifest.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, parse, print_ast
from strawberry.extensions import SchemaExtension

from member_api.bounded import Bounded
from member_api.error_codes import RequestErrorCode

logger = logging.getLogger(__name__)
LEARNED_MAX = 1_000
# The clients' operations, shipped inside the package (and so in the image); written by
# `member-api persisted-queries --write`, checked against the clients' files by a test.
MANIFEST = Path(__file__).with_name("operations.json")


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class PersistedQueries:
    def __init__(self, *, only_registered: bool = False) -> None:
        self.only_registered = only_registered
        self.registered: dict[str, str] = {}  # hash -> text
        self.names: dict[str, str] = {}  # hash -> operation name
        self._learned: Bounded[str, str] = Bounded(LEARNED_MAX)

    def register_document(self, source: str) -> int:
        """Register each named operation of a document; returns how many."""
        count = 0
        for node in parse(source).definitions:
            if isinstance(node, OperationDefinitionNode) and node.name is not None:
                text = print_ast(node)
                digest = sha256_hex(text)
                self.registered[digest] = text
                self.names[digest] = node.name.value
                count += 1
        return count

    def register_directory(self, directory: Path) -> int:
        count = 0
        for path in sorted(directory.glob("*.graphql")):
            count += self.register_document(path.read_text(encoding="utf-8"))
        return count

    def register_manifest(self, path: Path) -> int:
        """Register a manifest written by `manifest_of`; a tampered entry is refused."""
        data = json.loads(path.read_text(encoding="utf-8"))
        count = 0
        for entry in data["operations"]:
            if sha256_hex(entry["query"]) != entry["sha256"]:
                raise ValueError(f"{path}: {entry['name']}'s text does not match its hash")
            self.registered[entry["sha256"]] = entry["query"]
            self.names[entry["sha256"]] = entry["name"]
            count += 1
        return count

    def manifest(self) -> dict[str, Any]:
        """The registered operations as a manifest: name, hash and text, by name."""
        operations = sorted(
            ({"name": self.names[d], "sha256": d, "query": q} for d, q in self.registered.items()),
            key=lambda entry: (entry["name"], entry["sha256"]),
        )
        return {"operations": operations}

    def registered_text(self, name: str) -> str:
        """The registered text of the operation called `name`."""
        for digest, known in self.names.items():
            if known == name:
                return self.registered[digest]
        raise KeyError(name)

    def lookup(self, digest: str) -> str | None:
        found = self.registered.get(digest)
        if found is not None:
            return found
        return self._learned.get(digest)

    def learn(self, digest: str, text: str) -> None:
        if digest in self.registered:
            return
        self._learned.put(digest, text)


def _error(message: str, code: RequestErrorCode) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


class PersistedQuery(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        request_context: Any = context.context
        store: PersistedQueries | None = getattr(
            getattr(request_context, "services", None), "persisted", None
        )
        if store is not None:
            self._resolve(store)
        yield

    def _resolve(self, store: PersistedQueries) -> None:
        context = self.execution_context
        asked = (context.operation_extensions or {}).get("persistedQuery")
        if asked is None:
            ad_hoc = context.query is not None and sha256_hex(context.query) not in store.registered
            if store.only_registered and ad_hoc:
                raise _error(
                    "This server runs registered operations only; send the persisted query's hash.",
                    RequestErrorCode.PERSISTED_QUERY_REQUIRED,
                )
            return
        digest = asked.get("sha256Hash") if isinstance(asked, dict) else None
        if not isinstance(asked, dict) or asked.get("version") != 1 or not isinstance(digest, str):
            raise _error(
                "persistedQuery needs version 1 and a sha256Hash.",
                RequestErrorCode.BAD_PERSISTED_QUERY,
            )
        if context.query is None:
            text = store.lookup(digest.lower())
            if text is None:
                raise _error("PersistedQueryNotFound", RequestErrorCode.PERSISTED_QUERY_NOT_FOUND)
            context.query = text
            return
        if sha256_hex(context.query) != digest.lower():
            raise _error(
                "provided sha does not match query", RequestErrorCode.PERSISTED_QUERY_HASH_MISMATCH
            )
        if store.only_registered and digest.lower() not in store.registered:
            raise _error(
                "This server runs registered operations only.",
                RequestErrorCode.PERSISTED_QUERY_NOT_REGISTERED,
            )
        store.learn(digest.lower(), context.query)
