"""One-off research tools the product does not import (see docs/architecture.md)."""
