"""The only code that touches disk."""
