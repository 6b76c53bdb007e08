"""Settings, read once by create_app() or the CLI, never at import time.

Every field can be set with an environment variable named LABELVAULT_<FIELD>, e.g.
LABELVAULT_DATA_DIR=/srv/labelvault or LABELVAULT_DB_URL=postgresql+psycopg://host/db.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime configuration of a labelvault server or CLI."""

    model_config = SettingsConfigDict(env_prefix="LABELVAULT_", extra="ignore")

    data_dir: Path = Field(
        Path("labelvault-data"),
        description="Directory for the embedded SQLite database and the local master key.",
    )
    db_url: str | None = Field(
        None,
        description="SQLAlchemy URL; defaults to SQLite at DATA_DIR/labelvault.db. "
        "PostgreSQL: postgresql+psycopg://user@host:5432/dbname",
    )
    key_file: Path | None = Field(
        None,
        description="Local key-encryption-key file; defaults to DATA_DIR/master.key. "
        "Keep it apart from database backups: without it the data cannot be read.",
    )
    host: str = Field("127.0.0.1", description="Address the server listens on.")
    port: int = Field(8080, description="Port the server listens on.")
    default_lease_seconds: int = Field(
        600, ge=10, le=86_400, description="How long an annotator holds an item by default."
    )
    max_item_bytes: int = Field(
        1_048_576, ge=1024, description="Largest single imported item (encoded JSON bytes)."
    )
    max_import_bytes: int = Field(
        8 * 1024**3, description="Largest import body; larger uploads get 413."
    )
    max_json_body_bytes: int = Field(
        2_097_152, description="Largest JSON request body (answers, settings); larger gets 413."
    )
    login_token_hours: int = Field(12, ge=1, description="Lifetime of a token made by login.")
    token_cache_seconds: float = Field(
        2.0,
        ge=0,
        description="How long a verified API token is trusted without a database lookup. "
        "A revoked token stops working within this many seconds.",
    )
    sqlite_readers: int = Field(8, ge=1, le=64, description="SQLite reader connection pool.")
    import_batch_size: int = Field(5000, ge=1, description="Rows written per batch on import.")

    def resolved_db_url(self) -> str:
        """The database URL, defaulting to the embedded SQLite file."""
        if self.db_url:
            return self.db_url
        return f"sqlite:///{(self.data_dir / 'labelvault.db').resolve()}"

    def resolved_key_file(self) -> Path:
        """Where the local key-encryption key lives."""
        return self.key_file or (self.data_dir / "master.key")
