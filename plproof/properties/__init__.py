"""The plproof property catalogue: one pytest module per family of properties (docs/theory.md)."""
