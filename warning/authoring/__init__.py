"""Tools for rule authors: rule tests, explain, diff, scoring against labels, reports."""
