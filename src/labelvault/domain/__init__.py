"""Pure types and rules: label schemas, answer validation, roles. No I/O."""
