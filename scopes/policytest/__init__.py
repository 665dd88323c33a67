"""Tests a policy carries (`[[tests]]`, as `opa test` runs Rego's): finding, running, reporting."""
