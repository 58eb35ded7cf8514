"""Generated documentation is current, and every rule documents a fix."""

from mdeploy.rules import ALL
from mdeploy.rules import doc


def test_rules_doc_is_current():
    assert doc.main(["--check"]) == 0, "docs/rules.md is stale: run `make generate`"


def test_every_rule_has_a_summary_and_a_fix_example():
    for rule in ALL:
        assert rule.id and rule.summary and rule.bad and rule.good and rule.bad != rule.good, rule.id
    assert len({rule.id for rule in ALL}) == len(ALL)
