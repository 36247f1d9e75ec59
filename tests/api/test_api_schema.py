"""Schemathesis against the served OpenAPI document: no 5xx, and every answer conforms.

The pytest plugin's lazy fixtures do not work with this pytest, so each operation runs as a
Hypothesis test inside one test, with valid input and with input the document refuses.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from release_bot.core.models import Scope
from tests.support.api_world import ApiWorld

EXAMPLES = 50  # per operation and mode: valid input, and input the document refuses
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]


@pytest.fixture
def served(world: ApiWorld) -> Iterator[tuple[ApiWorld, str]]:
    """The world with a flag and a release to find, and a token that may do everything."""
    secret = world.token("deploy", *Scope)
    flag = {"key": "new_checkout", "kind": "gate", "pipeline": "standard", "value": False}
    world.call("POST", "/api/v1/flags", flag, secret=secret)
    world.call("POST", "/api/v1/flags/new_checkout/releases", {"value": True}, secret=secret)
    yield world, secret


def test_every_answer_conforms_to_the_document(served: tuple[ApiWorld, str]) -> None:
    world, secret = served
    with urllib.request.urlopen(world.base_url + "/api/v1/openapi.json") as answer:
        schema = schemathesis.openapi.from_dict(json.load(answer))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 9
    runs = [(operation, mode) for operation in operations for mode in GenerationMode
            if mode is GenerationMode.POSITIVE or operation.path != "/api/v1/openapi.json"]
    for operation, mode in runs:  # the document itself takes no input to get wrong

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def conforms(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=world.base_url,
                                   headers={"Authorization": f"Bearer {secret}"}, checks=CHECKS)

        conforms()
