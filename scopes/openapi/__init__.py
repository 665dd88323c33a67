"""Policies from OpenAPI documents: `import_openapi` reads one, `Imported.toml()` writes the
policy (DESIGN.md, "Policy lifecycle", "Import"). `scopes.Policy.from_openapi` and
`scopes import-openapi` are its faces."""

from scopes.openapi.document import Document, OpenAPIError
from scopes.openapi.importer import Imported, Omitted, UnsupportedError, import_openapi

__all__ = ["Document", "Imported", "Omitted", "OpenAPIError", "UnsupportedError", "import_openapi"]


def __dir__() -> list[str]:
    return __all__
