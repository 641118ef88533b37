"""The schema: schema.graphql does not drift, every type, field, argument and enum value is described."""

from __future__ import annotations

from pathlib import Path

from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLInterfaceType, GraphQLObjectType

from api.schema import schema, sdl

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = [  # paths integrators rely on (issue 4); renaming any of them is a breaking change
    ("Query", "systems"), ("Query", "system"),
    ("System", "id"), ("System", "kind"), ("System", "signals"), ("System", "timeRange"), ("System", "series"),
    ("System", "kpis"), ("Signal", "name"), ("Signal", "unit"), ("Signal", "aggregation"),
    ("TimeRange", "from"), ("TimeRange", "to"),
    ("Series", "timestampsMs"), ("Series", "values"), ("Series", "min"), ("Series", "max"),
    ("Series", "resolution"), ("Series", "unit"),
    ("Meter", "dailyEnergy"), ("DailyEnergy", "days"), ("DailyEnergy", "importKwh"), ("DailyEnergy", "exportKwh"),
    ("Bess", "cycles"), ("Cycles", "equivalentFullCycles"), ("Cycles", "chargedKwh"), ("Cycles", "dischargedKwh"),
    ("Bess", "packs"), ("Bess", "pack"), ("Bess", "cell"), ("Cell", "voltage"), ("Cell", "temperature"),
    ("Bess", "satVoltage"), ("SatMatrix", "rows"), ("SatMatrix", "columns"), ("SatMatrix", "values"),
    ("Bess", "degradation"), *[("CellFit", f) for f in ("pack", "cell", "slopeVPerDay", "interceptV", "r2", "n",
                                                         "lossPctPerYear", "quality")],
    ("Bess", "alerts"), *[("Alert", f) for f in ("pack", "cell", "kind", "severity", "reason")],
    ("Bess", "events"), ("PackEvent", "pack"), ("PackEvent", "date"), ("PackEvent", "stepV"),
    ("Bess", "packTrends"), ("Pack", "health"), ("Pack", "cells"), ("Cell", "satVoltage"), ("Cell", "fit"),
]


def _gql():
    return schema._schema  # graphql-core schema behind Strawberry's


def test_schema_file_matches_the_code():
    on_disk = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert on_disk == sdl(), "schema.graphql is stale: run `python -m api.schema > schema.graphql`"


def test_contract_paths_exist_with_their_arguments():
    types = _gql().type_map
    missing = [f"{t}.{f}" for t, f in CONTRACT if f not in types[t].fields]
    assert missing == []
    series_args = set(types["System"].fields["series"].args)
    assert {"signal", "from", "to", "resolution", "maxPoints", "downsample"} <= series_args
    assert set(types["SystemKind"].values) == {"METER", "BESS"}
    assert {"from", "to"} <= set(types["System"].fields["kpis"].args)
    assert {"from", "to"} <= set(types["Meter"].fields["dailyEnergy"].args)
    assert {"from", "to"} <= set(types["Bess"].fields["cycles"].args)
    assert {"from", "to"} <= set(types["Bess"].fields["satVoltage"].args)
    assert set(types["FitMethod"].values) == {"OLS", "ROBUST"}
    assert "method" in types["Bess"].fields["degradation"].args and "method" in types["Cell"].fields["fit"].args
    assert set(types["Language"].values) == {"EN", "DE"}


def test_every_type_field_argument_and_enum_value_has_a_description():
    undocumented = []
    for name, t in _gql().type_map.items():
        if name.startswith("__") or name in ("String", "Int", "Float", "Boolean", "ID"):
            continue
        if not t.description:
            undocumented.append(name)
        if isinstance(t, (GraphQLObjectType, GraphQLInterfaceType, GraphQLInputObjectType)):
            for fname, field in t.fields.items():
                if not field.description:
                    undocumented.append(f"{name}.{fname}")
                for aname, arg in getattr(field, "args", {}).items():
                    if not arg.description:
                        undocumented.append(f"{name}.{fname}({aname})")
        if isinstance(t, GraphQLEnumType):
            undocumented += [f"{name}.{v}" for v, val in t.values.items() if not val.description]
    assert undocumented == []


def test_numeric_leaf_fields_name_their_unit():
    """A Float field's description carries a unit in brackets, e.g. [kWh], [V], [0..1]."""
    missing = []
    for name, t in _gql().type_map.items():
        if name.startswith("__") or not isinstance(t, (GraphQLObjectType, GraphQLInterfaceType)):
            continue
        for fname, field in t.fields.items():
            leaf = str(field.type).strip("!")
            if leaf in ("Float", "FloatArray", "TimestampArray") and "[" not in (field.description or ""):
                missing.append(f"{name}.{fname}")
    assert missing == []
