"""Rules: the expression grammar, window functions, rule files and their evaluation."""
