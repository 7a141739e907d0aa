"""Course content shipped with zoped: the demo course files (YAML, course format version 1)."""
