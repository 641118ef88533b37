"""A validation rule that caps how many fields a query selects once its fragments are expanded."""

from __future__ import annotations

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)
from strawberry.extensions import AddValidationRules

# Each spread of a fragment counts its fields again: 2**18 spreads of one 1-field fragment is a
# 0.8 KB "billion laughs" body. Real queries of this schema select a few hundred fields at most.
MAX_EXPANDED_FIELDS = 5_000


def expanded_field_count(selection_set: SelectionSetNode | None, fragments: dict[str, FragmentDefinitionNode],
                         memo: dict[str, int], active: set[str]) -> int:
    """Fields selected by ``selection_set`` with every fragment spread expanded (memoised per fragment)."""
    if selection_set is None:
        return 0
    total = 0
    for sel in selection_set.selections:
        if isinstance(sel, FieldNode):
            total += 1 + expanded_field_count(sel.selection_set, fragments, memo, active)
        elif isinstance(sel, InlineFragmentNode):
            total += expanded_field_count(sel.selection_set, fragments, memo, active)
        elif isinstance(sel, FragmentSpreadNode):
            name = sel.name.value
            if name not in memo:
                if name in active or name not in fragments:
                    continue  # cycles and unknown fragments are reported by the standard rules
                active.add(name)
                memo[name] = expanded_field_count(fragments[name].selection_set, fragments, memo, active)
                active.discard(name)
            total += memo[name]
    return total


class _FanoutRule(ValidationRule):
    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        doc = context.document
        fragments = {d.name.value: d for d in doc.definitions if isinstance(d, FragmentDefinitionNode)}
        memo: dict[str, int] = {}
        for op in doc.definitions:
            if isinstance(op, OperationDefinitionNode):
                n = expanded_field_count(op.selection_set, fragments, memo, set())
                if n > MAX_EXPANDED_FIELDS:
                    context.report_error(GraphQLError(
                        f"query selects {n:,} fields once fragments are expanded; "
                        f"the limit is {MAX_EXPANDED_FIELDS:,} expanded fields",
                        op, extensions={"code": "LIMIT"}))


class FragmentFanoutLimiter(AddValidationRules):
    """Refuses queries whose fragment-expanded field count exceeds MAX_EXPANDED_FIELDS."""

    def __init__(self) -> None:
        super().__init__([_FanoutRule])
