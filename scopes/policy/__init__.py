"""Policy files: schema, loading and checking, compiling; the bundled Courier policy."""
