"""Rule tests: ``*.test.yaml`` files of input series and the warning events they must give."""

from warning.authoring.ruletest.expect import Expected
from warning.authoring.ruletest.load import Case, RuleTestFile, load_test_files
from warning.authoring.ruletest.notation import format_offset, parse_duration, parse_series
from warning.authoring.ruletest.run import (
    CaseResult,
    Got,
    result_lines,
    run_case,
    run_tests,
    summary,
)

__all__ = [
    "Case",
    "CaseResult",
    "Expected",
    "Got",
    "RuleTestFile",
    "format_offset",
    "load_test_files",
    "parse_duration",
    "parse_series",
    "result_lines",
    "run_case",
    "run_tests",
    "summary",
]
