"""The theorems as functions: radii, rates and step conditions of GD under PL* (docs/theory.md §2, §4)."""
