"""labelvault: self-hosted, confidential platform for human data work."""

__version__ = "0.1.0"
