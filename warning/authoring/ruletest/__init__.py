"""Rule tests: ``*.test.yaml`` files of input series and the warning events they must give."""

from warning.authoring.ruletest.load import (
    Case,
    Expected,
    RuleTestFile,
    format_offset,
    load_test_files,
    parse_duration,
    parse_series,
)
from warning.authoring.ruletest.run import (
    CaseResult,
    Got,
    result_lines,
    run_case,
    run_tests,
    summary,
)

__all__ = ["Case", "CaseResult", "Expected", "Got", "RuleTestFile", "format_offset",
           "load_test_files", "parse_duration", "parse_series", "result_lines", "run_case",
           "run_tests", "summary"]
