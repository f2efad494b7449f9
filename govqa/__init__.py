"""govqa: citation-grounded QA over AI-governance research."""
